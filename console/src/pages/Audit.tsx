/** Audit trail: filled in by the console work of issue 9. */
export function Audit() {
  return (
    <section>
      <h1>Audit trail</h1>
    </section>
  );
}

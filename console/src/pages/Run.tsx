/** Sync run: filled in by the console work of issue 9. */
export function Run() {
  return (
    <section>
      <h1>Sync run</h1>
    </section>
  );
}

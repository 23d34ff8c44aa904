/** Credential: filled in by the console work of issue 9. */
export function Credential() {
  return (
    <section>
      <h1>Credential</h1>
    </section>
  );
}

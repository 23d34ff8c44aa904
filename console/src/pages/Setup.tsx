/** Setup: filled in by the console work of issue 9. */
export function Setup() {
  return (
    <section>
      <h1>Setup</h1>
    </section>
  );
}

/** API tokens: filled in by the console work of issue 9. */
export function Tokens() {
  return (
    <section>
      <h1>API tokens</h1>
    </section>
  );
}

/** Connect a tenant: filled in by the console work of issue 9. */
export function ConnectTenant() {
  return (
    <section>
      <h1>Connect a tenant</h1>
    </section>
  );
}

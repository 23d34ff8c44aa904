import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useCan, useSession } from '../session';

/**
 * An admin page's content, or a clear message for a role that may not use it (a direct visit or
 * an old bookmark): never a half-loaded page of 403 errors. `acrossCompanies` pages (tokens,
 * setup) are also closed to admins limited to one company, as in the API.
 */
export function AdminOnly({
  title,
  may,
  acrossCompanies = false,
  children,
}: {
  title: string;
  /** What the page lets one do, after "may not": "manage API tokens". */
  may: string;
  acrossCompanies?: boolean;
  children: ReactNode;
}) {
  const session = useSession();
  const admin = useCan('admin');
  const limited = session.principal.companyId !== null;
  if (admin && !(acrossCompanies && limited)) return <>{children}</>;
  return (
    <section>
      <h1>{title}</h1>
      <p className="banner banner-bad" role="alert">
        {admin
          ? `Your token is limited to company ${session.principal.companyId}: it may not ${may}.`
          : `Your role (${session.principal.role}) may not ${may}.`}{' '}
        Ask an administrator if you need this.
      </p>
      <p>
        <Link to="/">Back to the dashboard</Link>
      </p>
    </section>
  );
}

import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useMemo, useState } from 'react';
import { api, ok } from '../../api/client';
import { browserTimeZone, timeZones } from './shared';

/** The company the tenant belongs to: an existing one, or a new one created at "Test connection". */
export interface CompanyChoice {
  /** Set for an existing company, or once the wizard created the new one. */
  id: number | null;
  name: string;
  timeZone: string;
  /** Still to be created. */
  isNew: boolean;
  /** An error the API gave when creating it, shown next to its field. */
  error?: { field: 'companyName' | 'timeZone'; message: string };
}

export function CompanyStep({
  initial,
  onDone,
}: {
  initial: CompanyChoice | null;
  onDone: (choice: CompanyChoice) => void;
}) {
  const id = useId();
  const companies = useQuery({
    queryKey: ['companies', 'all'],
    queryFn: () => ok(api.GET('/api/companies', { params: { query: { pageSize: '200' } } })),
  });
  const zones = useMemo(timeZones, []);
  const items = companies.data?.items ?? [];
  const [mode, setMode] = useState<'existing' | 'new' | null>(
    initial ? (initial.isNew ? 'new' : 'existing') : null,
  );
  const chosenMode = mode ?? (items.length > 0 ? 'existing' : 'new');
  const [existingId, setExistingId] = useState(initial && !initial.isNew ? String(initial.id) : '');
  const [name, setName] = useState(initial?.isNew ? initial.name : '');
  const [timeZone, setTimeZone] = useState(initial?.isNew ? initial.timeZone : browserTimeZone());
  const [errors, setErrors] = useState<{ companyName?: string; timeZone?: string; existing?: string }>(
    initial?.error ? { [initial.error.field]: initial.error.message } : {},
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosenMode === 'existing') {
      const company = items.find((c) => String(c.id) === (existingId || String(items[0]?.id)));
      if (!company) return setErrors({ existing: 'Choose a company.' });
      return onDone({ id: company.id, name: company.name, timeZone: company.timeZone, isNew: false });
    }
    const trimmed = name.trim();
    const found: typeof errors = {};
    if (!trimmed) found.companyName = 'Enter the company’s name, as your team knows it.';
    else if (trimmed.length > 200) found.companyName = 'Keep the name under 200 characters.';
    if (!zones.includes(timeZone)) found.timeZone = 'Choose the time zone the company works in.';
    setErrors(found);
    if (Object.keys(found).length === 0) onDone({ id: null, name: trimmed, timeZone, isNew: true });
  };

  return (
    <form onSubmit={submit} noValidate className="wizard-step" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Which company is this tenant for?</h2>
      <fieldset className="choice">
        <legend>Company</legend>
        <label>
          <input
            type="radio"
            name="company-mode"
            checked={chosenMode === 'existing'}
            disabled={items.length === 0}
            onChange={() => setMode('existing')}
          />
          An existing company
        </label>
        <label>
          <input
            type="radio"
            name="company-mode"
            checked={chosenMode === 'new'}
            onChange={() => setMode('new')}
          />
          A new company
        </label>
      </fieldset>

      {companies.isError && (
        <p className="banner banner-bad" role="alert">
          The companies could not be loaded: {companies.error.message}
        </p>
      )}

      {companies.isPending ? (
        <p className="muted">Loading the companies…</p>
      ) : chosenMode === 'existing' ? (
        <div className="field">
          <label htmlFor={`${id}-existing`}>Existing company</label>
          <select
            id={`${id}-existing`}
            value={existingId || String(items[0]?.id ?? '')}
            onChange={(e) => setExistingId(e.target.value)}
            aria-describedby={errors.existing ? `${id}-existing-error` : undefined}
          >
            {items.map((c) => (
              <option key={c.id} value={String(c.id)}>
                {c.name} ({c.timeZone})
              </option>
            ))}
          </select>
          {errors.existing && (
            <p id={`${id}-existing-error`} className="field-error">
              {errors.existing}
            </p>
          )}
        </div>
      ) : (
        <>
          <div className="field">
            <label htmlFor={`${id}-name`}>Company name</label>
            <input
              id={`${id}-name`}
              value={name}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={errors.companyName ? true : undefined}
              aria-describedby={errors.companyName ? `${id}-name-error` : undefined}
              autoComplete="organization"
            />
            {errors.companyName && (
              <p id={`${id}-name-error`} className="field-error">
                {errors.companyName}
              </p>
            )}
          </div>
          <div className="field">
            <label htmlFor={`${id}-tz`}>Time zone</label>
            <select
              id={`${id}-tz`}
              value={timeZone}
              onChange={(e) => setTimeZone(e.target.value)}
              aria-invalid={errors.timeZone ? true : undefined}
              aria-describedby={`${id}-tz-hint${errors.timeZone ? ` ${id}-tz-error` : ''}`}
            >
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z.replaceAll('_', ' ')}
                </option>
              ))}
            </select>
            <p id={`${id}-tz-hint`} className="hint">
              Scheduled syncs run at the times you choose in this time zone.
            </p>
            {errors.timeZone && (
              <p id={`${id}-tz-error`} className="field-error">
                {errors.timeZone}
              </p>
            )}
          </div>
        </>
      )}
      <div className="actions">
        <button type="submit">Continue</button>
      </div>
    </form>
  );
}

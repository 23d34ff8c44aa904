-- The three tables a sync writes, as migrations up to 20261201-801 (commit 1f11cdc) define them:
-- the "baseline" the benchmark's second COPY ceiling writes into, so that a later storage change
-- (what is stored and how, which indexes) shows its gain against the same rows in the same run.
--
-- Made once, from a database migrated at that commit:
--   pg_dump --schema-only --no-owner --no-privileges \
--     -t members_stream -t invoices_stream -t servicetitan_customer_contacts "$URL"
-- then kept as is except: session SETs, comments and psql's \restrict lines removed, the
-- "public." qualifier removed (bench/sync.ts runs this with search_path set to a schema of its
-- own, so the tables keep their names there), and the foreign keys dropped (the product's own
-- ceiling copies tables with LIKE ... INCLUDING ALL, which does not copy them either).
-- Do not regenerate it after a storage change: it is the "before".

CREATE TABLE invoices_stream (
    id bigint NOT NULL,
    company_id integer NOT NULL,
    software character varying(32) NOT NULL,
    external_id character varying(32) NOT NULL,
    active boolean NOT NULL,
    source_created_on timestamp with time zone,
    source_modified_on timestamp with time zone NOT NULL,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_synced_at timestamp with time zone DEFAULT now() NOT NULL,
    sync_run_id integer,
    raw jsonb NOT NULL,
    invoice_number text,
    invoice_date date,
    due_date date,
    customer_external_id character varying(32),
    customer_name text,
    location_external_id character varying(32),
    business_unit text,
    job_number text,
    job_type text,
    subtotal numeric,
    sales_tax numeric,
    total numeric,
    balance numeric,
    item_count integer DEFAULT 0 NOT NULL,
    items jsonb NOT NULL,
    environment text NOT NULL,
    CONSTRAINT invoices_stream_environment_check CHECK ((environment = ANY (ARRAY['integration'::text, 'production'::text])))
);

CREATE SEQUENCE invoices_stream_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE invoices_stream_id_seq OWNED BY invoices_stream.id;

CREATE TABLE members_stream (
    id bigint NOT NULL,
    company_id integer NOT NULL,
    software character varying(32) NOT NULL,
    external_id character varying(32) NOT NULL,
    active boolean NOT NULL,
    source_created_on timestamp with time zone,
    source_modified_on timestamp with time zone NOT NULL,
    first_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    last_synced_at timestamp with time zone DEFAULT now() NOT NULL,
    sync_run_id integer,
    raw jsonb NOT NULL,
    name text,
    first_name text,
    last_name text,
    customer_type text,
    email text,
    phone text,
    street text,
    unit text,
    city text,
    state text,
    zip text,
    country text,
    balance numeric,
    do_not_mail boolean,
    do_not_service boolean,
    merged_to_external_id character varying(32),
    environment text NOT NULL,
    CONSTRAINT members_stream_environment_check CHECK ((environment = ANY (ARRAY['integration'::text, 'production'::text])))
);

CREATE SEQUENCE members_stream_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE members_stream_id_seq OWNED BY members_stream.id;

CREATE TABLE servicetitan_customer_contacts (
    id bigint NOT NULL,
    company_id integer NOT NULL,
    external_id character varying(32) NOT NULL,
    customer_external_id character varying(32) NOT NULL,
    type character varying(16) NOT NULL,
    value text,
    active boolean NOT NULL,
    source_modified_on timestamp with time zone NOT NULL,
    last_synced_at timestamp with time zone DEFAULT now() NOT NULL,
    environment text NOT NULL,
    CONSTRAINT servicetitan_customer_contacts_environment_check CHECK ((environment = ANY (ARRAY['integration'::text, 'production'::text])))
);

CREATE SEQUENCE servicetitan_customer_contacts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE servicetitan_customer_contacts_id_seq OWNED BY servicetitan_customer_contacts.id;

ALTER TABLE ONLY invoices_stream ALTER COLUMN id SET DEFAULT nextval('invoices_stream_id_seq'::regclass);

ALTER TABLE ONLY members_stream ALTER COLUMN id SET DEFAULT nextval('members_stream_id_seq'::regclass);

ALTER TABLE ONLY servicetitan_customer_contacts ALTER COLUMN id SET DEFAULT nextval('servicetitan_customer_contacts_id_seq'::regclass);

ALTER TABLE ONLY invoices_stream
    ADD CONSTRAINT invoices_stream_pkey PRIMARY KEY (id);

ALTER TABLE ONLY invoices_stream
    ADD CONSTRAINT invoices_stream_source_unique UNIQUE (company_id, environment, software, external_id);

ALTER TABLE ONLY members_stream
    ADD CONSTRAINT members_stream_pkey PRIMARY KEY (id);

ALTER TABLE ONLY members_stream
    ADD CONSTRAINT members_stream_source_unique UNIQUE (company_id, environment, software, external_id);

ALTER TABLE ONLY servicetitan_customer_contacts
    ADD CONSTRAINT servicetitan_customer_contacts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY servicetitan_customer_contacts
    ADD CONSTRAINT servicetitan_customer_contacts_source_unique UNIQUE (company_id, environment, external_id);

CREATE INDEX invoices_stream_company_id_customer_external_id_index ON invoices_stream USING btree (company_id, customer_external_id);

CREATE INDEX invoices_stream_sync_run_id_index ON invoices_stream USING btree (sync_run_id);

CREATE INDEX members_stream_sync_run_id_index ON members_stream USING btree (sync_run_id);

CREATE INDEX servicetitan_customer_contacts_company_id_customer_dd966_index ON servicetitan_customer_contacts USING btree (company_id, customer_external_id);

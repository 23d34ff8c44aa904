import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generateSchemaTypes, openApiDocument, schemaFile } from '../../scripts/console-api-types.js';

describe('the console API types', () => {
  it('when generated from the route table, then they equal the committed console/src/api/schema.d.ts (npm run console:api-types)', async () => {
    const generated = await generateSchemaTypes();
    expect(generated).toContain('"/api/dashboard"');
    expect(generated === (await readFile(schemaFile, 'utf8')), 'schema.d.ts is stale').toBe(true);
  }, 30_000);

  it('when the document is built, then no component is a reference to itself (openapi-typescript refuses one)', () => {
    const { schemas } = openApiDocument().components;
    for (const [name, schema] of Object.entries(schemas))
      expect((schema as { $ref?: string }).$ref, name).not.toBe(`#/components/schemas/${name}`);
    expect(schemas.Error).toMatchObject({ type: 'object' });
  });
});

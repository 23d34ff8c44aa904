import { route } from '../route.js';
import {
  companyCreateSchema,
  companyDeletedView,
  companyDeleteQuery,
  companyListQuery,
  companyPage,
  companyPatchSchema,
  companyView,
  idParams,
} from '../schemas.js';
import type { createCompanyService } from '../services/companies.service.js';

export function companyRoutes(companies: ReturnType<typeof createCompanyService>) {
  const tag = 'Companies';
  return [
    route({
      method: 'post',
      path: '/companies',
      tag,
      summary: 'Create a company',
      access: 'admin',
      body: companyCreateSchema,
      status: 201,
      response: companyView,
      audit: { action: 'company.create', target: 'company' },
      handler: ({ body }, ctx) => companies.create(ctx, body),
    }),
    route({
      method: 'get',
      path: '/companies',
      tag,
      summary: 'List companies',
      access: 'read',
      query: companyListQuery,
      status: 200,
      response: companyPage,
      handler: ({ query }, ctx) => companies.list(ctx, query),
    }),
    route({
      method: 'get',
      path: '/companies/:id',
      tag,
      summary: 'Get a company',
      access: 'read',
      params: idParams,
      status: 200,
      response: companyView,
      handler: ({ params }, ctx) => companies.get(ctx, params.id),
    }),
    route({
      method: 'patch',
      path: '/companies/:id',
      tag,
      summary: 'Update a company',
      access: 'admin',
      params: idParams,
      body: companyPatchSchema,
      status: 200,
      response: companyView,
      audit: { action: 'company.update', target: 'company' },
      handler: ({ params, body }, ctx) => companies.update(ctx, params.id, body),
    }),
    route({
      method: 'delete',
      path: '/companies/:id',
      tag,
      summary: 'Delete a company and all its data',
      access: 'admin',
      params: idParams,
      query: companyDeleteQuery,
      status: 200,
      response: companyDeletedView,
      audit: { action: 'company.delete', target: 'company' },
      handler: ({ params, query }, ctx) => companies.remove(ctx, params.id, query.confirm),
    }),
  ];
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findCannedResponse, listCannedResponses, type CannedResponseRow } from '../../../data/canned-responses.js'
import { cannedLimits, cannedPlaceholders, createCannedResponses, fillPlaceholders, ticketLinkPlaceholder } from '../../../domain/canned-responses.js'
import { isTesseraError, notFound } from '../../../domain/errors.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, parseId, readForm, type FieldErrors, type FormSpec, type FormValues } from '../../forms.js'
import { forgetReferenceData, referenceData } from '../reference-data.js'

const cannedSpec = {
  title: { label: 'Title', missing: 'Give the response a title.', maxLength: cannedLimits.title },
  body: { label: 'Text', missing: 'Write the response.', maxLength: cannedLimits.body },
  department: { label: 'Offered to', missing: '', invalid: 'Choose everyone or one of the departments listed.', maxLength: 12, optional: true }
} satisfies FormSpec

type CannedValues = Record<keyof typeof cannedSpec, string>
type IdRequest = FastifyRequest<{ Params: { id: string } }>

/** Made-up values the admin pages preview a response with. */
const samples = { requesterName: 'Grace Hopper', ticketNumber: '482913' }

/** Canned responses at /staff/admin/canned: listed with a preview, created, edited, deleted. */
export default async function cannedRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const canned = createCannedResponses(db, { now: app.lifecycle.now })
  const listUrl = app.url('/staff/admin/canned')
  const sampleLink = app.absoluteUrl('/tickets/482913/access/SAMPLE-PRIVATE-LINK')

  const preview = (body: string, agentName: string): string =>
    fillPlaceholders(body, { ...samples, agentName }).replaceAll(ticketLinkPlaceholder, sampleLink)

  const valuesOf = (row: CannedResponseRow): CannedValues =>
    ({ title: row.title, body: row.body, department: row.department_id === null ? '' : String(row.department_id) })

  async function departmentOf (values: FormValues, errors: FieldErrors): Promise<number | null> {
    if (values.department === '') return null
    const id = parseId(values.department)
    if (id === undefined || !(await referenceData(db)()).departments.some((d) => d.id === id)) errors.department ??= cannedSpec.department.invalid
    return id ?? null
  }

  async function showList (request: FastifyRequest, reply: FastifyReply, values: CannedValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    const [responses, { departments }] = await Promise.all([listCannedResponses(db), referenceData(db)()])
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/canned', {
      agent: request.agent,
      responses: responses.map((r) => ({ ...r, preview: preview(r.body, request.agent.name) })),
      departments,
      placeholders: cannedPlaceholders,
      values,
      errors,
      spec: cannedSpec,
      flash: takeFlash(request, reply)
    }, { status })
  }

  async function showEdit (request: FastifyRequest, reply: FastifyReply, values: CannedValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    const id = parseId((request.params as { id?: string }).id)
    const row = id === undefined ? undefined : await findCannedResponse(db, id)
    if (!row) throw notFound('That canned response')
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/canned-edit', {
      agent: request.agent,
      response: row,
      preview: preview(values.body, request.agent.name),
      departments: (await referenceData(db)()).departments,
      placeholders: cannedPlaceholders,
      values,
      errors,
      spec: cannedSpec
    }, { status })
  }

  /** Runs a verb with the form's values; a refusal from the domain becomes a message beside the form. */
  async function save (request: FastifyRequest, reply: FastifyReply, show: typeof showList,
    verb: (input: { title: string, body: string, departmentId: number | null }) => Promise<unknown>, done: string): Promise<FastifyReply> {
    const { values, errors } = readForm(request, cannedSpec)
    const departmentId = await departmentOf(values, errors)
    if (hasErrors(errors)) return await show(request, reply, values, errors, 422)
    try {
      await verb({ title: values.title, body: values.body, departmentId })
    } catch (err) {
      if (!isTesseraError(err, 'TESSERA_INVALID_INPUT')) throw err
      return await show(request, reply, values, { _form: err.message }, 422)
    }
    forgetReferenceData(db)
    setFlash(request, reply, done)
    return await reply.redirect(listUrl, 303)
  }

  app.get('/staff/admin/canned', async (request, reply) => await showList(request, reply, { title: '', body: '', department: '' }, {}))

  app.post('/staff/admin/canned', formRoute(app, cannedSpec, { show: showList }), async (request, reply) =>
    await save(request, reply, showList, async (input) => await canned.create(request.agent, input), 'Canned response created.'))

  app.get<{ Params: { id: string } }>('/staff/admin/canned/:id', async (request, reply) => {
    const row = await findCannedResponse(db, parseId(request.params.id) ?? 0)
    if (!row) throw notFound('That canned response')
    return await showEdit(request, reply, valuesOf(row), {})
  })

  app.post<{ Params: { id: string } }>('/staff/admin/canned/:id', formRoute(app, cannedSpec, { show: showEdit }), async (request: IdRequest, reply) =>
    await save(request, reply, showEdit, async (input) => await canned.update(request.agent, parseId(request.params.id) ?? 0, input), 'Canned response saved.'))

  app.post<{ Params: { id: string } }>('/staff/admin/canned/:id/deletion', { preValidation: app.csrfProtection }, async (request, reply) => {
    await canned.remove(request.agent, parseId(request.params.id) ?? 0)
    forgetReferenceData(db)
    setFlash(request, reply, 'Canned response deleted.')
    return await reply.redirect(listUrl, 303)
  })
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { countDepartmentTickets, findDepartment, listDepartmentAddresses, listDepartmentSummaries, listDepartmentTopicNames, newTicketAudiences, type DepartmentDetail } from '../../../data/catalog.js'
import { createCatalogAdmin, type DepartmentInput } from '../../../domain/admin/catalog.js'
import { notFound } from '../../../domain/errors.js'
import { changeDepartmentSignature, signatureMaxLength, SignatureInputError } from '../../../domain/signatures.js'
import { findDepartmentSignature } from '../../../data/signatures.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { priorities } from '../../format.js'
import { formRoute, hasErrors, idParam, parseId, readForm, type FieldErrors, type FormSpec, type FormValues } from '../../forms.js'
import { forgetReferenceData, referenceData } from '../reference-data.js'
import { attempt, requiredId, type Refusal } from './catalog-forms.js'

export const departmentSpec = {
  name: { label: 'Name', missing: 'Enter a name for the department.', maxLength: 120 },
  senderName: { label: 'Sender name', missing: '', maxLength: 120, optional: true },
  senderAddress: { label: 'Sender address', missing: '', maxLength: 254, optional: true },
  defaultPriority: { label: 'Default priority', missing: 'Choose a default priority.', maxLength: 2 },
  newTicketNotice: { label: 'Told about new tickets', missing: 'Choose who is told about new tickets.', maxLength: 16 }
} satisfies FormSpec

const addressSpec = {
  address: { label: 'Address', missing: 'Enter the address mail arrives at.', maxLength: 254 }
} satisfies FormSpec

const signatureSpec = {
  // Browsers send a textarea's line breaks as two characters; the signature counts one.
  signature: { label: 'Signature', missing: '', maxLength: signatureMaxLength * 2, optional: true }
} satisfies FormSpec

const moveSpec = {
  department: { label: 'Move them to', missing: 'Choose the department to move the tickets to.', maxLength: 12 }
} satisfies FormSpec

export const audienceLabels: Record<typeof newTicketAudiences[number], string> = {
  agents: 'All its agents and managers',
  managers: 'Its managers only',
  nobody: 'Nobody'
}

type DepartmentForm = Record<keyof typeof departmentSpec, string>
type FormState = Partial<Record<'edit' | 'address' | 'move' | 'delete' | 'signature', { values?: FormValues, errors: FieldErrors }>>

const blankDepartment: DepartmentForm = { name: '', senderName: '', senderAddress: '', defaultPriority: '2', newTicketNotice: 'agents' }

function valuesOf (department: DepartmentDetail): DepartmentForm {
  return {
    name: department.name,
    senderName: department.sender_name ?? '',
    senderAddress: department.sender_address ?? '',
    defaultPriority: String(department.default_priority),
    newTicketNotice: department.new_ticket_notice
  }
}

function inputOf (values: DepartmentForm): DepartmentInput {
  return {
    name: values.name,
    senderName: values.senderName,
    senderAddress: values.senderAddress,
    defaultPriority: Number(values.defaultPriority),
    newTicketNotice: values.newTicketNotice
  }
}

/** Departments: where tickets land, the addresses mail reaches them at, who hears of them. */
export default async function departmentsRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const catalog = createCatalogAdmin(db, { now: app.lifecycle.now })
  const listUrl = app.url('/staff/admin/departments')
  const pageUrl = (id: number): string => app.url(`/staff/admin/departments/${id}`)
  const audiences = newTicketAudiences.map((value) => ({ value, label: audienceLabels[value] }))

  async function showList (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/departments', {
      agent: request.agent,
      departments: await listDepartmentSummaries(db),
      values,
      errors,
      spec: departmentSpec,
      priorities,
      audiences,
      flash: takeFlash(request, reply)
    }, { status })
  }

  async function showDepartment (request: FastifyRequest, reply: FastifyReply, forms: FormState = {}, status = 200): Promise<FastifyReply> {
    const id = idParam(request, 'That department')
    const department = await findDepartment(db, id)
    if (!department) throw notFound('That department')
    const [addresses, tickets, topics, { departments }, signature] = await Promise.all([
      listDepartmentAddresses(db, id), countDepartmentTickets(db, id), listDepartmentTopicNames(db, id), referenceData(db)(), findDepartmentSignature(db, id)
    ])
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/department', {
      agent: request.agent,
      department,
      addresses,
      tickets,
      topics,
      targets: departments.filter((d) => d.id !== id && !d.archived),
      edit: { values: forms.edit?.values ?? valuesOf(department), errors: forms.edit?.errors ?? {} },
      address: { values: forms.address?.values ?? { address: '' }, errors: forms.address?.errors ?? {} },
      move: { values: forms.move?.values ?? { department: '' }, errors: forms.move?.errors ?? {} },
      deletion: { errors: forms.delete?.errors ?? {} },
      signature: { values: forms.signature?.values ?? { signature: signature ?? '' }, errors: forms.signature?.errors ?? {}, maxLength: signatureMaxLength },
      spec: departmentSpec,
      priorities,
      audiences,
      queueUrl: app.url(`/staff/queues/open?department=${id}`),
      flash: takeFlash(request, reply)
    }, { status })
  }

  /** After a change: every page of this instance shows it at once, and the admin sees what happened. */
  async function done (request: FastifyRequest, reply: FastifyReply, to: string, message: string): Promise<FastifyReply> {
    forgetReferenceData(db)
    setFlash(request, reply, message)
    return await reply.redirect(to, 303)
  }

  const showAgain = (form: keyof FormState) => async (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status: number) =>
    await showDepartment(request, reply, { [form]: { values, errors } }, status)

  app.get('/staff/admin/departments', async (request, reply) => await showList(request, reply, blankDepartment, {}))

  app.post('/staff/admin/departments', formRoute(app, departmentSpec, { show: showList }), async (request, reply) => {
    const { values, errors } = readForm(request, departmentSpec)
    if (hasErrors(errors)) return await showList(request, reply, values, errors, 422)
    let id = 0
    const refusal = await attempt(async () => { id = await catalog.createDepartment(request.agent, inputOf(values)) })
    if (refusal) return await showList(request, reply, values, refusal.errors, refusal.status)
    return await done(request, reply, pageUrl(id), `Department ${values.name.trim()} created. Add the addresses its mail arrives at below.`)
  })

  app.get<{ Params: { id: string } }>('/staff/admin/departments/:id', async (request, reply) => await showDepartment(request, reply))

  app.post<{ Params: { id: string } }>('/staff/admin/departments/:id', formRoute(app, departmentSpec, { show: showAgain('edit') }), async (request, reply) => {
    const id = idParam(request, 'That department')
    const { values, errors } = readForm(request, departmentSpec)
    const refusal: Refusal | undefined = hasErrors(errors) ? { errors, status: 422 } : await attempt(async () => { await catalog.changeDepartment(request.agent, id, inputOf(values)) })
    if (refusal) return await showDepartment(request, reply, { edit: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, pageUrl(id), 'Department saved.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/departments/:id/addresses', formRoute(app, addressSpec, { show: showAgain('address') }), async (request, reply) => {
    const id = idParam(request, 'That department')
    const { values, errors } = readForm(request, addressSpec)
    const refusal: Refusal | undefined = hasErrors(errors) ? { errors, status: 422 } : await attempt(async () => { await catalog.addDepartmentAddress(request.agent, id, values.address) })
    if (refusal) return await showDepartment(request, reply, { address: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, pageUrl(id), `Mail to ${values.address.trim().toLowerCase()} now opens tickets here.`)
  })

  app.post<{ Params: { id: string, addressId: string } }>('/staff/admin/departments/:id/addresses/:addressId/deletion', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That department')
    await catalog.removeDepartmentAddress(request.agent, id, parseId(request.params.addressId) ?? -1)
    return await done(request, reply, pageUrl(id), 'Address removed.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/departments/:id/signature', formRoute(app, signatureSpec, { show: showAgain('signature') }), async (request, reply) => {
    const id = idParam(request, 'That department')
    const { values, errors } = readForm(request, signatureSpec)
    if (!hasErrors(errors)) {
      try {
        const { changed } = await changeDepartmentSignature(db, request.agent, id, values.signature, app.lifecycle.now())
        return await done(request, reply, pageUrl(id), changed ? 'Signature saved.' : 'Nothing had changed.')
      } catch (err) {
        if (!(err instanceof SignatureInputError)) throw err
        errors.signature = err.message
      }
    }
    return await showDepartment(request, reply, { signature: { values, errors } }, 422)
  })

  app.post<{ Params: { id: string } }>('/staff/admin/departments/:id/archival', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That department')
    await catalog.archiveDepartment(request.agent, id)
    return await done(request, reply, pageUrl(id), 'Department archived: it is no longer offered for new tickets, transfers or topics.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/departments/:id/reactivation', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That department')
    await catalog.reactivateDepartment(request.agent, id)
    return await done(request, reply, pageUrl(id), 'Department active again.')
  })

  app.post<{ Params: { id: string } }>('/staff/admin/departments/:id/transfer', formRoute(app, moveSpec, { show: showAgain('move') }), async (request, reply) => {
    const id = idParam(request, 'That department')
    const { values, errors } = readForm(request, moveSpec)
    let moved = 0
    const refusal: Refusal | undefined = hasErrors(errors)
      ? { errors, status: 422 }
      : await attempt(async () => { moved = await catalog.moveDepartmentTickets(request.agent, id, requiredId(values.department)) })
    if (refusal) return await showDepartment(request, reply, { move: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, pageUrl(id), `${moved} ticket${moved === 1 ? '' : 's'} moved.`)
  })

  app.post<{ Params: { id: string } }>('/staff/admin/departments/:id/deletion', { preValidation: app.csrfProtection }, async (request, reply) => {
    const id = idParam(request, 'That department')
    const department = await findDepartment(db, id)
    const refusal = await attempt(async () => { await catalog.deleteDepartment(request.agent, id) })
    if (refusal) return await showDepartment(request, reply, { delete: { errors: refusal.errors } }, refusal.status)
    return await done(request, reply, listUrl, `Department ${department?.name ?? ''} deleted.`)
  })
}

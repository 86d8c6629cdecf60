import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findRequester, listRequesters, listRequesterTickets } from '../../data/requesters.js'
import { notFound, TesseraError } from '../../domain/errors.js'
import { mayEditRequesters, mayMergeRequesters } from '../../domain/requesters.js'
import { setFlash, takeFlash } from '../cookies.js'
import { formRoute, hasErrors, parseId, readForm, type FieldErrors, type FormSpec } from '../forms.js'

const editSpec = {
  name: { label: 'Name', missing: 'Enter a name.', maxLength: 120 },
  email: { label: 'E-mail address', missing: 'Enter an e-mail address.', invalid: 'Enter an e-mail address like name@example.com.', maxLength: 254 }
} satisfies FormSpec
const noteSpec = {
  note: { label: 'Note for agents', missing: '', maxLength: 5000, optional: true }
} satisfies FormSpec
const mergeSpec = {
  into: { label: 'Merge into the requester with the address', missing: 'Enter the address of the record to keep.', invalid: 'Enter an e-mail address like name@example.com.', maxLength: 254 }
} satisfies FormSpec

type FormName = 'edit' | 'note' | 'merge'
const directoryPageSize = 50
const ticketLimit = 100

interface Params { id: string }

/** The requester directory: find a person, see their tickets, keep a note, fix or merge records. */
export default async function requesterRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app

  app.get<{ Querystring: Record<string, string | undefined> }>('/staff/requesters', async (request, reply) => {
    const search = typeof request.query.q === 'string' ? request.query.q.slice(0, 200) : ''
    const cursor = typeof request.query.after === 'string' ? /^([0-9]{1,9})_(.{0,120})$/s.exec(request.query.after) : null
    const rows = await listRequesters(db, { search, after: cursor ? { id: Number(cursor[1]), name: cursor[2]! } : undefined }, directoryPageSize + 1)
    const page = rows.slice(0, directoryPageSize)
    const last = page.at(-1)
    const next = new URLSearchParams()
    if (search) next.set('q', search)
    if (last) next.set('after', `${last.id}_${last.name}`)
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/requesters', {
      agent: request.agent,
      search,
      rows: page,
      nextUrl: rows.length > directoryPageSize ? app.url(`/staff/requesters?${next.toString()}`) : null
    })
  })

  async function showRequester (request: FastifyRequest, reply: FastifyReply, form?: { name: FormName, values: Record<string, string>, errors: FieldErrors, status: number }): Promise<FastifyReply> {
    const id = parseId((request.params as Params).id)
    const requester = id === undefined ? undefined : await findRequester(db, id)
    if (!requester) throw notFound('That requester')
    const tickets = await listRequesterTickets(db, request.agent, requester.id, ticketLimit)
    const mergedInto = requester.merged_into_id ? await findRequester(db, requester.merged_into_id) : undefined
    reply.header('Cache-Control', 'private, no-cache')
    const values = (name: FormName, fallback: Record<string, string>): Record<string, string> => form?.name === name ? form.values : fallback
    return await reply.render('staff/requester', {
      agent: request.agent,
      requester,
      mergedInto,
      open: tickets.filter((t) => t.status !== 'closed'),
      closed: tickets.filter((t) => t.status === 'closed'),
      mayEdit: mayEditRequesters(request.agent),
      mayMerge: mayMergeRequesters(request.agent),
      forms: {
        edit: { values: values('edit', { name: requester.name, email: requester.email }), errors: form?.name === 'edit' ? form.errors : {} },
        note: { values: values('note', { note: requester.note ?? '' }), errors: form?.name === 'note' ? form.errors : {} },
        merge: { values: values('merge', { into: '' }), errors: form?.name === 'merge' ? form.errors : {} }
      },
      specs: { edit: editSpec, note: noteSpec, merge: mergeSpec },
      flash: takeFlash(request, reply)
    }, { status: form?.status })
  }

  app.get<{ Params: Params }>('/staff/requesters/:id', async (request, reply) => await showRequester(request, reply))

  /** One POST route per form; a refused change shows the page again with what was typed. */
  function formPost<S extends FormSpec> (path: string, name: FormName, spec: S, change: (request: FastifyRequest<{ Params: Params }>, id: number, values: Record<keyof S & string, string>) => Promise<{ message: string, goTo?: number }>): void {
    app.post<{ Params: Params }>(path, formRoute(app, spec, {
      formats: name === 'note' ? {} : { [name === 'edit' ? 'email' : 'into']: 'email' },
      show: async (request, reply, values, errors, status) => await showRequester(request, reply, { name, values, errors, status })
    }), async (request, reply) => {
      const id = parseId(request.params.id)
      if (id === undefined) throw notFound('That requester')
      const { values, errors } = readForm(request, spec)
      if (hasErrors(errors)) return await showRequester(request, reply, { name, values, errors, status: 422 })
      let outcome: { message: string, goTo?: number }
      try {
        outcome = await change(request, id, values)
      } catch (err) {
        if (!(err instanceof TesseraError) || err.code !== 'TESSERA_INVALID_INPUT') throw err
        return await showRequester(request, reply, { name, values, errors: { [Object.keys(spec)[0]!]: err.message }, status: 422 })
      }
      setFlash(request, reply, outcome.message)
      return await reply.redirect(app.url(`/staff/requesters/${outcome.goTo ?? id}`), 303)
    })
  }

  formPost('/staff/requesters/:id', 'edit', editSpec, async (request, id, values) => {
    await app.requesters.editRequester(request.agent, id, values)
    return { message: 'Requester saved.' }
  })
  formPost('/staff/requesters/:id/note', 'note', noteSpec, async (request, id, values) => {
    await app.requesters.noteRequester(request.agent, id, values.note)
    return { message: 'Note saved.' }
  })
  formPost('/staff/requesters/:id/merge', 'merge', mergeSpec, async (request, id, values) => {
    const target = await app.requesters.mergeRequesters(request.agent, id, values.into)
    return { message: 'Merged the other record into this one: its tickets are here, and mail from its address comes here from now on.', goTo: target.id }
  })
}

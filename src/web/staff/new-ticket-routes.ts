import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { listOpenableTopics, type OpenableTopic } from '../../data/new-ticket-choices.js'
import { findRequester, listRequesters, type RequesterListRow } from '../../data/requesters.js'
import { normalizeEmail } from '../../domain/email-address.js'
import { TesseraError } from '../../domain/errors.js'
import { agentActor, isPriority } from '../../domain/lifecycle.js'
import { isStaffTicketSource, mayOpenTicketIn, staffTicketSources, ticketSources } from '../../domain/tickets-on-behalf.js'
import { setFlash } from '../cookies.js'
import { priorities } from '../format.js'
import { formRoute, hasErrors, parseId, readForm, type FieldErrors, type FormSpec } from '../forms.js'
import { assigneesFor, referenceData } from './reference-data.js'

const newTicketSpec = {
  name: { label: 'Requester’s name', missing: 'Enter the requester’s name.', maxLength: 120 },
  email: { label: 'Requester’s e-mail address', missing: 'Enter the requester’s e-mail address.', invalid: 'Enter an e-mail address like name@example.com.', maxLength: 254 },
  source: { label: 'Came in by', missing: 'Choose how the request came in.', invalid: 'Choose one of the ways listed.', maxLength: 16 },
  topic: { label: 'Help topic', missing: 'Choose a help topic.', invalid: 'Choose one of the help topics listed.', maxLength: 12 },
  department: { label: 'Department', missing: '', invalid: 'Choose one of the departments listed.', maxLength: 12, optional: true },
  priority: { label: 'Priority', missing: '', invalid: 'Choose one of the priorities listed.', maxLength: 2, optional: true },
  assignee: { label: 'Assignee', missing: '', invalid: 'Choose an agent who works in this department.', maxLength: 12, optional: true },
  subject: { label: 'Subject', missing: 'Enter a subject.', maxLength: 200 },
  message: { label: 'Their request', missing: 'Write down what they asked.', maxLength: 20000 },
  notify: { label: 'Tell the requester', missing: '', maxLength: 3, optional: true },
  firstKind: { label: 'Also write', missing: '', invalid: 'Choose a reply or an internal note.', maxLength: 8, optional: true },
  firstBody: { label: 'Reply or note', missing: '', maxLength: 20000, optional: true }
} satisfies FormSpec

type NewTicketValues = Record<keyof typeof newTicketSpec, string>

const blank: NewTicketValues = {
  name: '', email: '', source: 'phone', topic: '', department: '', priority: '', assignee: '', subject: '', message: '', notify: 'yes', firstKind: 'response', firstBody: ''
}

const searchShown = 10

/**
 * A ticket for someone who phoned, walked in or wrote elsewhere, at /staff/tickets/new: find
 * the requester (or type a new one), say how it came in, and whether they are told.
 */
export default async function newTicketRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const lists = referenceData(db)

  async function showForm (request: FastifyRequest, reply: FastifyReply, values: NewTicketValues, errors: FieldErrors, status = 200,
    found?: { search: string, requesters: RequesterListRow[] }): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    const { departments, assignable } = await lists()
    const topics = await listOpenableTopics(db)
    return await reply.render('staff/new-ticket', {
      agent: request.agent,
      values,
      errors,
      spec: newTicketSpec,
      found,
      sources: staffTicketSources.map((value) => ({ value, label: ticketSources[value] })),
      topics: topics.filter((topic) => mayOpenTicketIn(request.agent, topic.department_id)).map(({ id, name }) => ({ value: id, label: name })),
      departments: departments.filter((d) => !d.archived && mayOpenTicketIn(request.agent, d.id)).map(({ id, name }) => ({ value: id, label: name })),
      priorities,
      assignees: assigneesFor(assignable).map(({ id, name }) => ({ value: id, label: name }))
    }, { status })
  }

  app.get<{ Querystring: { find?: string, requester?: string } }>('/staff/tickets/new', async (request, reply) => {
    const values = { ...blank }
    const requesterId = parseId(request.query.requester)
    const requester = requesterId === undefined ? undefined : await findRequester(db, requesterId)
    if (requester) Object.assign(values, { name: requester.name, email: requester.email })
    const search = typeof request.query.find === 'string' ? request.query.find.trim().slice(0, 200) : ''
    const found = search === '' ? undefined : { search, requesters: await listRequesters(db, { search }, searchShown) }
    return await showForm(request, reply, values, {}, 200, found)
  })

  /** The choices that must be among those offered, checked against the same lists the form shows. */
  async function choiceErrors (request: FastifyRequest, values: NewTicketValues, errors: FieldErrors): Promise<{ topic?: OpenableTopic, departmentId?: number }> {
    if (!errors.source && !isStaffTicketSource(values.source)) errors.source = newTicketSpec.source.invalid
    const topicId = parseId(values.topic)
    const topic = topicId === undefined ? undefined : (await listOpenableTopics(db)).find((t) => t.id === topicId)
    if (!errors.topic && !topic) errors.topic = newTicketSpec.topic.invalid
    const departmentId = values.department === '' ? topic?.department_id : parseId(values.department)
    const { departments, assignable } = await lists()
    const department = departments.find((d) => d.id === departmentId && !d.archived)
    if (values.department !== '' && !errors.department && (!department || !mayOpenTicketIn(request.agent, department.id))) errors.department = newTicketSpec.department.invalid
    else if (!errors.topic && departmentId !== undefined && !mayOpenTicketIn(request.agent, departmentId)) errors.topic = 'Your role does not allow opening tickets in this topic’s department; choose another department or topic.'
    if (values.priority !== '' && !errors.priority && !isPriority(Number(values.priority))) errors.priority = newTicketSpec.priority.invalid
    if (values.assignee !== '' && !errors.assignee) {
      const assigneeId = parseId(values.assignee)
      if (assigneeId === undefined || !assigneesFor(assignable, departmentId).some((a) => a.id === assigneeId)) errors.assignee = newTicketSpec.assignee.invalid
    }
    if (values.firstKind !== '' && !errors.firstKind && values.firstKind !== 'response' && values.firstKind !== 'note') errors.firstKind = newTicketSpec.firstKind.invalid
    return { topic, departmentId }
  }

  app.post('/staff/tickets', formRoute(app, newTicketSpec, {
    formats: { email: 'email' },
    getGoesTo: '/staff/tickets/new',
    show: showForm
  }), async (request, reply) => {
    const { values, errors } = readForm(request, newTicketSpec)
    const { topic, departmentId } = await choiceErrors(request, values, errors)
    if (hasErrors(errors) || !topic || departmentId === undefined) return await showForm(request, reply, values, errors, 422)
    const firstBody = values.firstBody.trim() === '' ? undefined : values.firstBody
    const assigneeId = parseId(values.assignee)
    try {
      const opened = await app.lifecycle.openTicket({
        name: values.name.trim(),
        email: normalizeEmail(values.email),
        subject: values.subject.trim(),
        message: values.message,
        helpTopicId: topic.id,
        departmentId,
        source: isStaffTicketSource(values.source) ? values.source : 'other',
        onBehalf: {
          actor: agentActor(request.agent),
          notify: values.notify === 'yes',
          priority: values.priority === '' ? undefined : Number(values.priority),
          assignment: assigneeId === undefined ? undefined : { agentId: assigneeId, teamId: null },
          firstEntry: firstBody === undefined ? undefined : { kind: values.firstKind === 'note' ? 'note' : 'response', body: firstBody }
        }
      })
      const number = opened.ticket.number
      setFlash(request, reply, values.notify === 'yes'
        ? `Ticket ${number} is open; ${values.name.trim()} is sent its private link.`
        : `Ticket ${number} is open; the requester was not told.`)
      return await reply.redirect(app.url(`/staff/tickets/${number}`), 303)
    } catch (err) {
      // What changed between showing the form and sending it (a topic retired, a role taken away).
      if (!(err instanceof TesseraError) || err.code === 'TESSERA_CONFLICT') throw err
      return await showForm(request, reply, values, { _form: err.message }, 422)
    }
  })
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findPlan, listPlanChoices, listPlans, listSchedules, findSchedule, type SlaPlanRow, type SlaScheduleRow } from '../../../data/sla.js'
import { createSlaAdmin, formatHolidays, formatWindows, weekdays, type PlanInput, type ScheduleInput, type WeekdayField } from '../../../domain/admin/sla.js'
import { notFound } from '../../../domain/errors.js'
import type { Window } from '../../../domain/business-hours.js'
import { setFlash, takeFlash } from '../../cookies.js'
import { formRoute, hasErrors, idParam, readForm, type FieldErrors, type FormSpec, type FormValues } from '../../forms.js'
import { attempt, optionalId, type Refusal } from './catalog-forms.js'

export const planSpec = {
  name: { label: 'Name', missing: 'Enter a name for the plan.', maxLength: 120 },
  firstResponse: { label: 'First response within (hours)', missing: 'Enter the hours to the first response, like 4.', maxLength: 6 },
  resolution: { label: 'Resolution within (hours)', missing: 'Enter the hours to the resolution, like 24.', maxLength: 6 },
  schedule: { label: 'Counted in', missing: '', maxLength: 12, optional: true }
} satisfies FormSpec

export const choiceSpec = {
  target: { label: 'Department or help topic', missing: 'Choose a department or help topic.', maxLength: 24 },
  plan: { label: 'Plan', missing: '', maxLength: 12, optional: true }
} satisfies FormSpec

const hourFields = Object.fromEntries(weekdays.map(({ field, label }) => [field, { label, missing: '', maxLength: 100, optional: true }])) as Record<WeekdayField, { label: string, missing: string, maxLength: number, optional: true }>

export const scheduleSpec = {
  name: { label: 'Name', missing: 'Enter a name for the schedule.', maxLength: 120 },
  timeZone: { label: 'Time zone', missing: 'Enter the time zone, like Europe/Berlin.', maxLength: 64 },
  ...hourFields,
  holidays: { label: 'Holidays', missing: '', maxLength: 10_000, optional: true }
} satisfies FormSpec

type PlanForm = Record<keyof typeof planSpec, string>
type ScheduleForm = Record<keyof typeof scheduleSpec, string>
type FormState = Partial<Record<'plan' | 'choice', { values: FormValues, errors: FieldErrors }>>

function planValues (plan: SlaPlanRow): PlanForm {
  return { name: plan.name, firstResponse: String(plan.first_response_hours), resolution: String(plan.resolution_hours), schedule: plan.schedule_id === null ? '' : String(plan.schedule_id) }
}

function scheduleValues (schedule: SlaScheduleRow): ScheduleForm {
  const windows = JSON.parse(schedule.windows) as Record<string, Window[]>
  const hours = Object.fromEntries(weekdays.map(({ day, field }) => [field, formatWindows(windows[day])])) as Record<WeekdayField, string>
  return { name: schedule.name, timeZone: schedule.time_zone, ...hours, holidays: formatHolidays(schedule.holidays) }
}

function planInput (values: PlanForm): PlanInput {
  return { name: values.name, firstResponseHours: values.firstResponse, resolutionHours: values.resolution, scheduleId: optionalId(values.schedule) }
}

function scheduleInput (values: ScheduleForm): ScheduleInput {
  const hours = Object.fromEntries(weekdays.map(({ field }) => [field, values[field]])) as Record<WeekdayField, string>
  return { name: values.name, timeZone: values.timeZone, hours, holidays: values.holidays }
}

const blankPlan: PlanForm = { name: '', firstResponse: '', resolution: '', schedule: '' }
const blankSchedule: ScheduleForm = {
  name: '', timeZone: 'UTC', monday: '09:00-17:00', tuesday: '09:00-17:00', wednesday: '09:00-17:00', thursday: '09:00-17:00', friday: '09:00-17:00', saturday: '', sunday: '', holidays: ''
}

/** SLA plans and business-hours schedules, and which plan each department and help topic picks. */
export default async function slaRoutes (app: FastifyInstance): Promise<void> {
  const { db } = app
  const sla = createSlaAdmin(db, { now: app.lifecycle.now })
  const plansUrl = app.url('/staff/admin/sla')

  async function scheduleOptions (): Promise<Array<{ value: number, label: string }>> {
    return (await listSchedules(db)).map((s) => ({ value: s.id, label: s.name }))
  }

  async function showPlans (request: FastifyRequest, reply: FastifyReply, forms: FormState = {}, status = 200): Promise<FastifyReply> {
    const [plans, choices, schedules] = await Promise.all([listPlans(db), listPlanChoices(db), scheduleOptions()])
    const planName = (id: number | null): string => plans.find((p) => p.id === id)?.name ?? '—'
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/sla', {
      agent: request.agent,
      plans,
      schedules,
      choices: [
        ...choices.departments.map((d) => ({ value: `department:${d.id}`, label: `Department ${d.name}`, plan: planName(d.sla_plan_id) })),
        ...choices.topics.map((h) => ({ value: `help_topic:${h.id}`, label: `Help topic ${h.name}`, plan: h.sla_plan_id === null ? 'The department’s' : planName(h.sla_plan_id) }))
      ],
      planOptions: plans.map((p) => ({ value: p.id, label: p.name })),
      plan: forms.plan ?? { values: blankPlan, errors: {} },
      choice: forms.choice ?? { values: { target: '', plan: '' }, errors: {} },
      planSpec,
      flash: takeFlash(request, reply)
    }, { status })
  }

  async function showPlan (request: FastifyRequest, reply: FastifyReply, values?: FormValues, errors: FieldErrors = {}, status = 200): Promise<FastifyReply> {
    const plan = await findPlan(db, idParam(request, 'That plan'))
    if (!plan) throw notFound('That plan')
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/sla-plan', {
      agent: request.agent, plan, values: values ?? planValues(plan), errors, spec: planSpec, schedules: await scheduleOptions(), flash: takeFlash(request, reply)
    }, { status })
  }

  async function showSchedules (request: FastifyRequest, reply: FastifyReply, values: FormValues, errors: FieldErrors, status = 200): Promise<FastifyReply> {
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/sla-schedules', {
      agent: request.agent, schedules: await listSchedules(db), values, errors, spec: scheduleSpec, weekdays, flash: takeFlash(request, reply)
    }, { status })
  }

  async function showSchedule (request: FastifyRequest, reply: FastifyReply, values?: FormValues, errors: FieldErrors = {}, status = 200): Promise<FastifyReply> {
    const schedule = await findSchedule(db, idParam(request, 'That schedule'))
    if (!schedule) throw notFound('That schedule')
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/admin/sla-schedule', {
      agent: request.agent, schedule, values: values ?? scheduleValues(schedule), errors, spec: scheduleSpec, weekdays, flash: takeFlash(request, reply)
    }, { status })
  }

  async function done (request: FastifyRequest, reply: FastifyReply, to: string, message: string): Promise<FastifyReply> {
    setFlash(request, reply, message)
    return await reply.redirect(to, 303)
  }

  const refused = (errors: FieldErrors): Refusal | undefined => hasErrors(errors) ? { errors, status: 422 } : undefined

  app.get('/staff/admin/sla', async (request, reply) => await showPlans(request, reply))

  app.post('/staff/admin/sla', formRoute(app, planSpec, {
    show: async (request, reply, values, errors, status) => await showPlans(request, reply, { plan: { values, errors } }, status)
  }), async (request, reply) => {
    const { values, errors } = readForm(request, planSpec)
    let id = 0
    const refusal = refused(errors) ?? await attempt(async () => { id = await sla.createPlan(request.agent, planInput(values)) })
    if (refusal) return await showPlans(request, reply, { plan: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, app.url(`/staff/admin/sla/plans/${id}`), `SLA plan ${values.name.trim()} created.`)
  })

  app.post('/staff/admin/sla/choices', formRoute(app, choiceSpec, {
    getGoesTo: plansUrl,
    show: async (request, reply, values, errors, status) => await showPlans(request, reply, { choice: { values, errors } }, status)
  }), async (request, reply) => {
    const { values, errors } = readForm(request, choiceSpec)
    const target = /^(department|help_topic):([0-9]{1,9})$/.exec(values.target)
    const refusal = refused(errors) ?? (target
      ? await attempt(async () => { await sla.choosePlan(request.agent, { kind: target[1] as 'department' | 'help_topic', id: Number(target[2]) }, optionalId(values.plan)) })
      : { errors: { target: 'Choose a department or help topic.' }, status: 422 })
    if (refusal) return await showPlans(request, reply, { choice: { values, errors: refusal.errors } }, refusal.status)
    return await done(request, reply, plansUrl, 'Plan chosen: new tickets start with it; tickets opened before keep theirs.')
  })

  app.get<{ Params: { id: string } }>('/staff/admin/sla/plans/:id', async (request, reply) => await showPlan(request, reply))

  app.post<{ Params: { id: string } }>('/staff/admin/sla/plans/:id', formRoute(app, planSpec, { show: showPlan }), async (request, reply) => {
    const id = idParam(request, 'That plan')
    const { values, errors } = readForm(request, planSpec)
    const refusal = refused(errors) ?? await attempt(async () => { await sla.changePlan(request.agent, id, planInput(values)) })
    if (refusal) return await showPlan(request, reply, values, refusal.errors, refusal.status)
    return await done(request, reply, app.url(`/staff/admin/sla/plans/${id}`), 'SLA plan saved.')
  })

  app.get('/staff/admin/sla/schedules', async (request, reply) => await showSchedules(request, reply, blankSchedule, {}))

  app.post('/staff/admin/sla/schedules', formRoute(app, scheduleSpec, { show: showSchedules }), async (request, reply) => {
    const { values, errors } = readForm(request, scheduleSpec)
    let id = 0
    const refusal = refused(errors) ?? await attempt(async () => { id = await sla.createSchedule(request.agent, scheduleInput(values)) })
    if (refusal) return await showSchedules(request, reply, values, refusal.errors, refusal.status)
    return await done(request, reply, app.url(`/staff/admin/sla/schedules/${id}`), `Schedule ${values.name.trim()} created.`)
  })

  app.get<{ Params: { id: string } }>('/staff/admin/sla/schedules/:id', async (request, reply) => await showSchedule(request, reply))

  app.post<{ Params: { id: string } }>('/staff/admin/sla/schedules/:id', formRoute(app, scheduleSpec, { show: showSchedule }), async (request, reply) => {
    const id = idParam(request, 'That schedule')
    const { values, errors } = readForm(request, scheduleSpec)
    const refusal = refused(errors) ?? await attempt(async () => { await sla.changeSchedule(request.agent, id, scheduleInput(values)) })
    if (refusal) return await showSchedule(request, reply, values, refusal.errors, refusal.status)
    return await done(request, reply, app.url(`/staff/admin/sla/schedules/${id}`), 'Schedule saved: due times of tickets change from their next pause or restart.')
  })
}

import type { FastifyInstance } from 'fastify'
import { TesseraError } from '../../domain/errors.js'
import { maySeeScores, type SurveyScore } from '../../domain/survey.js'
import { referenceData } from './reference-data.js'

/**
 * Satisfaction scores (% Great minus % Not good) per department, agent and team, for
 * administrators and for managers within the departments they manage.
 */
export default async function satisfactionRoutes (app: FastifyInstance): Promise<void> {
  const reference = referenceData(app.db)

  app.get('/staff/satisfaction', async (request, reply) => {
    if (!maySeeScores(request.agent)) throw new TesseraError('TESSERA_FORBIDDEN', 'Satisfaction scores are for managers and administrators.')
    const [scores, { agents, teams, departments }] = await Promise.all([app.surveys.scores(request.agent), reference()])
    const named = (rows: SurveyScore[], names: Array<{ id: number, name: string }>, none: string): Array<SurveyScore & { name: string }> =>
      rows.map((row) => ({ ...row, name: row.id === null ? none : names.find((n) => n.id === row.id)?.name ?? 'Removed' }))
    reply.header('Cache-Control', 'private, no-cache')
    return await reply.render('staff/satisfaction', {
      agent: request.agent,
      groups: [
        { title: 'Departments', rows: named(scores.departments, departments, '—') },
        { title: 'Agents', rows: named(scores.agents, agents, 'Nobody assigned') },
        { title: 'Teams', rows: named(scores.teams, teams, '—') }
      ]
    })
  })
}

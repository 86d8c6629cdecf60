import type { Knex } from 'knex'
import type { AgentAccess } from '../data/agents.js'
import { getSetting, putSetting } from '../data/settings.js'
import { recordAdminChange } from './admin-log.js'
import { TesseraError } from './errors.js'
import { notices, type NoticeTemplate } from './notices.js'

/**
 * Who receives each notice, in words, for the notices page. Notices an administrator cannot
 * switch off are missing from `switchable`: without them nobody could sign in or test mail.
 */
export const noticeRecipients: Readonly<Record<NoticeTemplate, string>> = {
  ticket_received: 'The requester',
  agent_response: 'The requester',
  ticket_resolved: 'The requester',
  ticket_closed: 'The requester',
  access_link: 'The requester who asked for it',
  ticket_merged: 'The requester of the merged ticket',
  pending_reminder: 'The requester',
  survey_invitation: 'The requester of the closed ticket',
  participant_copy: 'The participants the agent kept in Cc on a reply',
  new_ticket: 'The agents and managers of the ticket’s department',
  ticket_assigned: 'The agent assigned, or the team’s members who can open the ticket',
  client_message: 'The assigned agent',
  ticket_transferred: 'The agents and managers of the department it moved to',
  sla_warning: 'The assigned agent, or the department’s managers when nobody is assigned',
  sla_breach: 'The assigned agent, or the department’s managers when nobody is assigned',
  survey_not_good: 'The agent who had the ticket and the department’s managers',
  password_reset: 'The agent who asked for it',
  invitation: 'The invited agent',
  test_message: 'The administrator who sent it'
}

const alwaysSent: ReadonlySet<NoticeTemplate> = new Set(['password_reset', 'invitation', 'test_message'])

export function isSwitchableNotice (value: unknown): value is NoticeTemplate {
  return typeof value === 'string' && Object.hasOwn(notices, value) && !alwaysSent.has(value as NoticeTemplate)
}

export interface NoticeStatus {
  template: NoticeTemplate
  description: string
  recipients: string
  /** Null for notices that are always sent. */
  enabled: boolean | null
}

/** Turning notices on and off, as administrators do on the notices page. */
export function createNoticeSettings (db: Knex, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now
  return {
    async list (): Promise<NoticeStatus[]> {
      const stored = new Map<string, string>((await db('settings').where('key', 'like', 'notice.%').select('key', 'value'))
        .map((row: { key: string, value: string }) => [row.key, row.value]))
      return (Object.keys(notices) as NoticeTemplate[]).map((template) => ({
        template,
        description: notices[template].description,
        recipients: noticeRecipients[template],
        enabled: alwaysSent.has(template) ? null : stored.get(`notice.${template}`) !== 'off'
      }))
    },

    /** Switching a notice to the state it is in changes nothing and logs nothing. */
    async setEnabled (admin: AgentAccess, template: string, enabled: boolean): Promise<boolean> {
      if (!isSwitchableNotice(template)) throw new TesseraError('TESSERA_NOT_FOUND', 'That notice cannot be switched off.')
      return await db.transaction(async (trx) => {
        const key = `notice.${template}`
        const was = await getSetting(trx, key) !== 'off'
        if (was === enabled) return false
        await putSetting(trx, key, enabled ? 'on' : 'off')
        await recordAdminChange(trx, admin, {
          subject: 'notice', subjectId: null, action: enabled ? 'turned_on' : 'turned_off', before: { [template]: was ? 'on' : 'off' }, after: { [template]: enabled ? 'on' : 'off' }
        }, now())
        return true
      })
    }
  }
}

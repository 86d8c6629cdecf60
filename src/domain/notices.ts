import type { Db } from '../data/database.js'
import { getSetting } from '../data/settings.js'

/** Every notice Tessera sends, to whom, and what it is for. */
export const notices = {
  ticket_received: { audience: 'requester', description: 'Ticket received, with its number and private link' },
  agent_response: { audience: 'requester', description: 'An agent answered' },
  ticket_resolved: { audience: 'requester', description: 'Ticket resolved, with links to confirm or reply' },
  ticket_closed: { audience: 'requester', description: 'Ticket closed' },
  access_link: { audience: 'requester', description: 'A fresh private link was requested' },
  ticket_merged: { audience: 'requester', description: 'Their ticket was merged into another' },
  new_ticket: { audience: 'agent', description: 'New ticket in my department' },
  ticket_assigned: { audience: 'agent', description: 'Ticket assigned to me or my team' },
  client_message: { audience: 'agent', description: 'New client message on my ticket' },
  ticket_transferred: { audience: 'agent', description: 'Ticket transferred to my department' },
  password_reset: { audience: 'agent', description: 'Password reset link' },
  invitation: { audience: 'agent', description: 'Invitation to the staff panel' },
  test_message: { audience: 'agent', description: 'Test message sent from the outbox page' }
} as const

export type NoticeTemplate = keyof typeof notices

/** Notices are on unless the setting `notice.<template>` is "off". */
export async function noticeEnabled (db: Db, template: NoticeTemplate): Promise<boolean> {
  return await getSetting(db, `notice.${template}`) !== 'off'
}

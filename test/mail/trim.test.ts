import t from 'tap'
import { simpleParser } from 'mailparser'
import { replyMarker } from '../../src/mail/compose.js'
import { trimQuotedHtml, trimReply } from '../../src/mail/trim.js'
import { fixture } from '../helpers/mail.js'

const vars = {
  IN_REPLY_TO: '<tessera.7.AbCdEfGhIjKl@help.example.test>',
  REFERENCES: '<tessera.1.MnOpQrStUvWx@help.example.test> <tessera.7.AbCdEfGhIjKl@help.example.test>',
  NUMBER: '482913',
  REQUESTER: 'grace@example.com'
}

/** The text of a fixture as the inbound pipeline hands it to trimReply. */
async function textOf (name: string): Promise<string> {
  const mail = await simpleParser(fixture(name, vars), { skipImageLinks: true, skipTextLinks: true })
  return (mail.text ?? '').replace(/\r\n?/g, '\n').trim()
}

/** The same reply written without a signature, so the quote form alone has to be found. */
function unsigned (text: string): string {
  const without = text
    .replace(/\n-- \n[\s\S]*?\n\n(?=\S)/, '\n')
    .replace(/\nSent from my iPhone\n/, '\n')
  if (without === text) throw new Error('the fixture had no signature to take away')
  return without
}

/** What each client's reply says above the quoted history: exactly what must be kept. */
const replies: Array<{ client: string, fixture: string, signed: boolean, kept: string }> = [
  {
    client: 'Gmail (attribution wrapped over two lines)',
    fixture: 'gmail-reply',
    signed: true,
    kept: 'Hi Bob,\n\nIt’s an HP LaserJet 4050 on the third floor, connected by USB. The\njam happens with both trays.\n\nThanks,\nGrace'
  },
  {
    client: 'Gmail in German (“Am … schrieb …:” wrapped over two lines)',
    fixture: 'gmail-reply-de',
    signed: false,
    kept: 'Hallo Bob,\n\ndanke, der Drucker läuft wieder einwandfrei.\n\nViele Grüße\nGrace'
  },
  {
    client: 'Outlook desktop (-----Original Message-----)',
    fixture: 'outlook-desktop-reply',
    signed: true,
    kept: 'Hello,\n\nThe paper tray was replaced this morning, but page two still jams. The\ndisplay shows error 13.2 each time.\n\nKind regards,\nGrace'
  },
  {
    client: 'Outlook on the web (rule, From:, Sent:)',
    fixture: 'outlook-web-reply',
    signed: false,
    kept: 'Hi,\n\nYes, please go ahead and replace the fuser. Friday afternoon suits us best; the café on the ground floor can let the technician in.\n\nBest,\nGrace'
  },
  {
    client: 'Apple Mail (attribution inside the quote)',
    fixture: 'apple-mail-reply',
    signed: true,
    kept: 'Good afternoon,\n\nThe technician came by at two and the printer works again — thank you all for the quick help!\n\nGrace'
  },
  {
    client: 'iPhone Mail (Sent from my iPhone)',
    fixture: 'iphone-reply',
    signed: true,
    kept: 'Yes, Friday works. I\'ll be in from eight.'
  },
  {
    client: 'Thunderbird (format=flowed, “On … wrote:”)',
    fixture: 'thunderbird-reply',
    signed: true,
    kept: 'Hello Bob,\n\nI tried the new driver you linked, but the second page still comes out crumpled – could someone have a look on site?\n\nRegards,\nGrace'
  }
]

for (const reply of replies) {
  t.test(`${reply.client}: only the new text is kept`, async (t) => {
    const text = await textOf(reply.fixture)
    t.ok(text.includes(replyMarker), 'the fixture quotes our notice')
    t.equal(trimReply(text), reply.kept, 'as the client wrote it')
    if (reply.signed) t.equal(trimReply(unsigned(text)), reply.kept, 'and without the signature, cut at the quote itself')
    t.equal(trimReply(text.replace(/\n/g, '\r\n')), reply.kept, 'CRLF line endings make no difference')
  })
}

t.test('Outlook (HTML turned to text): *From:* and *Sent:* in bold start the history', async (t) => {
  const text = 'Sounds good, thank you.\n\nMaria\n\n*From:* Tessera Help Desk <help@desk.test>\n*Sent:* Thursday, 26 November 2026 10:14\n*To:* Maria <maria@example.com>\n*Subject:* [#482913] Printer jams on page two\n\n-- Reply above this line --\n\nHello Maria,'
  t.equal(trimReply(text), 'Sounds good, thank you.\n\nMaria')
})

t.test('Outlook mobile: "Get Outlook for iOS" ends the new text', async (t) => {
  const text = 'Yes please.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\nFrom: Tessera Help Desk <help@desk.test>\nSent: Thursday, November 26, 2026 10:14:09 AM\nTo: Maria <maria@example.com>\nSubject: [#482913] Printer jams on page two\n\n-- Reply above this line --'
  t.equal(trimReply(text), 'Yes please.')
})

t.test('French Gmail: "Le … a écrit :" starts the history', async (t) => {
  const text = 'Merci, c\'est réglé.\n\nLe jeu. 26 nov. 2026 à 10:14, Tessera Help Desk <help@desk.test> a écrit :\n\n> -- Reply above this line --\n>\n> Bonjour Françoise,'
  t.equal(trimReply(text), 'Merci, c\'est réglé.')
})

t.test('our marker cuts even when the client quoted without ">" or attribution', async (t) => {
  t.equal(trimReply(`Thanks, all sorted.\n\n${replyMarker}\n\nHello Grace Hopper,\n\nBob Kahn replied to your request`), 'Thanks, all sorted.')
  t.equal(trimReply(`Thanks, all sorted.\n\n> ${replyMarker}\n> Hello Grace Hopper,\nSome footer the client added`), 'Thanks, all sorted.')
})

t.test('answers written between quoted lines are all kept', async (t) => {
  const text = '> Which printer model is it?\n\nAn HP LaserJet 4050.\n\n> Does it happen with both trays?\n\nYes, with both.'
  t.equal(trimReply(text), text)
})

t.test('a quote in the middle, with new text after it, is not history', async (t) => {
  const text = 'The display said:\n\n> Error 13.2 paper jam\n\nand then it restarted by itself.'
  t.equal(trimReply(text), text)
})

t.test('when nothing would be left, the whole text is kept', async (t) => {
  const onlyQuote = `> ${replyMarker}\n>\n> Hello Grace Hopper,\n> Which printer model is it?`
  t.equal(trimReply(onlyQuote), onlyQuote, 'a reply that is all quote')
  const attributionFirst = `On Thu, Nov 26, 2026 at 10:14 AM Tessera Help Desk <help@desk.test> wrote:\n\n> ${replyMarker}\n> Hello Grace Hopper,`
  t.equal(trimReply(attributionFirst), attributionFirst, 'a reply with nothing typed above the attribution')
  const onlyOriginal = `-----Original Message-----\nFrom: Tessera Help Desk <help@desk.test>\nSent: Thursday, November 26, 2026 10:14 AM\n\n${replyMarker}`
  t.equal(trimReply(onlyOriginal), onlyOriginal, 'a forward-style reply with nothing new')
  t.equal(trimReply('-- \nGrace Hopper\nOperations, Building 4'), '-- \nGrace Hopper\nOperations, Building 4', 'only a signature')
  t.equal(trimReply(`\n\n  ${onlyQuote}\n\n`), onlyQuote, 'surrounding blank lines are still dropped')
  t.equal(trimReply(''), '', 'an empty text stays empty')
})

t.test('text without any history is returned as it was (bar trailing space)', async (t) => {
  t.equal(trimReply('Hello,\n\nThe printer jams.\n\nGrace\n\n\n'), 'Hello,\n\nThe printer jams.\n\nGrace')
  t.equal(trimReply('\n\nHello,\n  indented line\nGrace'), 'Hello,\n  indented line\nGrace', 'leading blank lines go, indentation stays')
})

t.test('a forward is content: with a forward subject, the header block it carries is kept', async (t) => {
  const text = 'Please help this customer.\n\nFrom: Max Mustermann <max@example.de>\nSent: Thursday, November 26, 2026 9:02 AM\nTo: sales@example.com\nSubject: Invoice missing\n\nWhere is my invoice?'
  t.equal(trimReply(text, { subject: 'FW: Invoice missing' }), text, 'Outlook forward (FW:)')
  t.equal(trimReply(text, { subject: 'WG: Invoice missing' }), text, 'German Outlook forward (WG:)')
  t.equal(trimReply(text, { subject: 'RE: Invoice missing' }), 'Please help this customer.', 'a reply with the same body is trimmed')
  t.equal(trimReply(text, { subject: 'Re: Fwd: Invoice missing' }), 'Please help this customer.', 'and so is a reply to a forward')
  t.equal(trimReply(text), 'Please help this customer.', 'and so is one without a subject given')
})

t.test('trimQuotedHtml cuts at the marker and closes what was open there', async (t) => {
  const reply = '<html><body><div>Yes, Friday.</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Tessera Help Desk</div><div>Hello Grace,</div></body></html>'
  t.equal(trimQuotedHtml(reply), '<html><body><div>Yes, Friday.</div></body></html>')
  t.equal(trimQuotedHtml(reply, { subject: 'Fwd: Printer' }), reply, 'a forward keeps the header block and what follows')
  const nested = '<div dir="ltr"><p>Thanks</p><div><blockquote type="cite">old</blockquote></div></div>'
  t.equal(trimQuotedHtml(nested), '<div dir="ltr"><p>Thanks</p><div></div></div>')
})

t.test('trimQuotedHtml keeps the HTML as it was when nothing would be left or the markup is broken', async (t) => {
  const onlyQuote = '<html><head><title>Re: Printer</title></head><body><blockquote type="cite">Hello Grace,</blockquote></body></html>'
  t.equal(trimQuotedHtml(onlyQuote), onlyQuote, 'only a quote (the title is not text of the message)')
  t.equal(trimQuotedHtml(''), '')
  for (const broken of ['<div class="gmail_quote', '<<<>>>', '</div></div><p', '<blockquote type=cite>x', 'Thanks<!-- <div class="gmail_quote"> -->']) {
    t.doesNotThrow(() => trimQuotedHtml(broken), broken)
  }
  t.equal(trimQuotedHtml('Thanks<!-- <div class="gmail_quote"> --> and bye'), 'Thanks<!-- <div class="gmail_quote"> --> and bye', 'a marker in a comment is no marker')
  t.equal(trimQuotedHtml('<p>Thanks</p><script>"<blockquote type=cite>"</script><p>bye</p>'), '<p>Thanks</p><script>"<blockquote type=cite>"</script><p>bye</p>', 'nor one in a script')
})

t.test('hostile input of 1 MB is trimmed in linear time', async (t) => {
  const megabyte = 1_000_000
  const inputs: Record<string, string> = {
    'one long line': 'a'.repeat(megabyte),
    'white space before a last character': ' '.repeat(megabyte) + 'x',
    'answers and quotes alternating': 'text\n> quote\n'.repeat(megabyte / 14),
    'quoted lines then an answer': '> q\n'.repeat(megabyte / 4) + 'answer',
    'attribution words repeated': 'On '.repeat(megabyte / 3) + 'wrote:',
    'attribution on one long line': 'On 1 <a@b> wrote: '.repeat(megabyte / 18) + '\n> x',
    'header lines only': 'From: x\nSent: y\n'.repeat(megabyte / 16),
    dashes: '-'.repeat(megabyte),
    'underscores then From': '_'.repeat(megabyte) + '\nFrom: x',
    'angle brackets': '<'.repeat(megabyte),
    'open quote markers': '<div class="gmail_quote">'.repeat(megabyte / 25),
    'unmatched end tags': '<div>'.repeat(megabyte / 10) + '</span>'.repeat(megabyte / 14),
    'unterminated attributes': '<div class="'.repeat(megabyte / 12),
    'quotes and answers in HTML': '<blockquote type="cite">x</blockquote>y'.repeat(megabyte / 40),
    entities: '&#1234567;&nbsp;'.repeat(megabyte / 16)
  }
  for (const [name, input] of Object.entries(inputs)) {
    const started = performance.now()
    trimReply(input)
    trimQuotedHtml(input)
    // Generous for a shared machine: quadratic work on 1 MB takes minutes, linear well under a second.
    t.ok(performance.now() - started < 10_000, `${name} (${Math.round(performance.now() - started)} ms)`)
  }
})

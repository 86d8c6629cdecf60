import { replyMarker } from './compose.js'

/**
 * Where quoted history begins in a reply, in the forms the common mail programs write it.
 * Each test gets the line and the one after it (some clients wrap the attribution).
 */
const historyStarts: Array<(line: string, next: string) => boolean> = [
  // Our own marker, quoted or not.
  (line) => line.includes(replyMarker),
  // Gmail, Thunderbird, Apple Mail: "On Tue, 3 Nov 2026 at 10:02, Ada <ada@x> wrote:" (maybe over two lines).
  (line, next) => /^\s*On\b.{0,200}\bwrote:\s*$/.test(line) || (/^\s*On\b/.test(line) && /\bwrote:\s*$/.test(next) && !/^\s*>/.test(next)),
  // German, French, Spanish, Italian Gmail: "Am … schrieb …:", often wrapped over two lines.
  (line, next) => /^\s*(Am|Le|El|Il)\b/.test(line) && !/^\s*>/.test(next) &&
    [line, `${line} ${next}`].some((text) => /^\s*(Am|Le|El|Il)\b.{0,300}\b(schrieb|a écrit|escribió|ha scritto)\b.{0,200}:\s*$/.test(text)),
  // Outlook desktop.
  (line) => /^\s*-{2,}\s*Original Message\s*-{2,}\s*$/i.test(line),
  // Outlook and Outlook on the web: a rule line, then "From: …" and "Sent: …".
  (line, next) => /^\s*_{10,}\s*$/.test(line) && /^\s*From:/i.test(next),
  (line, next) => /^\s*\*?From:\*?\s.+/i.test(line) && /^\s*\*?(Sent|Date):\*?\s/i.test(next),
  // A block quote that runs to the end (checked by the caller), and signatures.
  (line) => /^-- ?$/.test(line),
  (line) => /^\s*Sent from my (iPhone|iPad|Android|mobile)/i.test(line),
  (line) => /^\s*Get Outlook for (iOS|Android)/i.test(line)
]

/**
 * The new part of a reply: quoted history, our notice below the marker and the signature
 * are cut. If nothing would be left, the whole text is kept rather than lose the message.
 */
export function trimReply (text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  let end = lines.length
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const next = lines[i + 1] ?? ''
    if (historyStarts.some((starts) => starts(line, next))) { end = i; break }
    // Lines quoted with ">" from here to the end are history too.
    if (/^\s*>/.test(line) && lines.slice(i).every((rest) => rest.trim() === '' || /^\s*>/.test(rest))) { end = i; break }
  }
  const kept = lines.slice(0, end).join('\n').replace(/\s+$/, '').replace(/^\s*\n/, '')
  return kept.trim() === '' ? text.trim() : kept
}

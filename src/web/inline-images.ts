import type { AttachmentRow } from '../data/attachments.js'

export type BodyPart = { text: string } | { image: AttachmentRow }

/**
 * An entry's text with its inline images in place: mail clients leave `[cid:…]` (Outlook)
 * or `[image: name.png]` (Gmail) in the text part where the HTML showed the picture. Only
 * images whose bytes are really images are placed; any other marker stays as text.
 */
export function inlineBodyParts (body: string, files: readonly AttachmentRow[] | undefined): { parts: BodyPart[], placed: Set<number> } {
  const placed = new Set<number>()
  const images = (files ?? []).filter((f) => f.inline && f.image_type !== null)
  if (images.length === 0) return { parts: [{ text: body }], placed }
  const parts: BodyPart[] = []
  let last = 0
  for (const match of body.matchAll(/\[(?:cid:([^\]\s]{1,255})|image: ([^\]\n]{1,255}))\]/g)) {
    const image = match[1] !== undefined
      ? images.find((f) => f.content_id === match[1])
      : images.find((f) => f.filename === match[2]!.trim() && !placed.has(f.id))
    if (!image) continue
    parts.push({ text: body.slice(last, match.index) }, { image })
    placed.add(image.id)
    last = match.index + match[0].length
  }
  parts.push({ text: body.slice(last) })
  return { parts, placed }
}

import { convert } from 'html-to-text'

/**
 * An HTML mail body as readable text: paragraphs, lists and line breaks kept, no tags,
 * scripts, style sheets, images or link addresses (which are often tracking URLs).
 */
export function htmlAsText (html: string): string {
  return convert(html, {
    wordwrap: false,
    // Mail from Word and Outlook nests tables deeply; past this depth the rest is plain text.
    limits: { maxDepth: 200, maxInputLength: 16 * 1024 * 1024 },
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'h4', options: { uppercase: false } },
      { selector: 'h5', options: { uppercase: false } },
      { selector: 'h6', options: { uppercase: false } }
    ]
  })
}

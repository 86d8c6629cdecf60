/**
 * The lines mail programs write around quoted history, in the languages we have seen them in.
 * Every pattern is anchored and bounded, and callers only test short lines, so a hostile
 * 1 MB line costs one linear pass, never a backtracking explosion.
 */

/** Longer lines are never one of these markers (and are not tested against them). */
export const markerLineLimit = 500

/** Verbs of attribution lines: "On … Ada wrote:", "Am … schrieb Ada:", "Ada さんは書きました:". */
const attributionVerb = /(?:\bwrote\b|\bwrites\b|a écrit|\bschrieb\b|escribió|ha scritto|escreveu|\bschreef\b|geschreven|napisał|napisała|napisana|\bpisze\b|\bskrev\b|написал|написала|đã viết|写道|寫道|書きました|のメッセージ|のメール|님이 작성|kirjoitti|írta|napsal|yazdı|scrisse|a scris|έγραψε|пише|пишет|написав|작성)/iu

/** How attribution lines begin when they begin with a date rather than a name. */
const attributionStart = /^(?:On|Am|Le|El|Il|Em|Op|W dniu|Den|På|Vào|Dne|Dana|Στις|Wiadomość)\b/u

/** Gmail in Russian, Japanese and others: "чт, 26 нояб. 2026 г. в 10:14, Ada <ada@x>:". */
const dateNameAddress = /\d.{0,300}<[^<>\s]{1,200}@[^<>\s]{1,200}>\)?\s*[:：]$/u

/**
 * Whether a line, or two or three lines joined (clients wrap long ones), is an attribution.
 * `quoteFollows` tells whether quoted lines come next, which makes a weak form enough.
 */
export function isAttribution (text: string, quoteFollows: boolean): boolean {
  const line = text.trim()
  if (line.length > markerLineLimit * 2 || !/[:：]$/.test(line)) return false
  if (dateNameAddress.test(line)) return true
  if (!attributionVerb.test(line)) return false
  return quoteFollows || /@|\d/.test(line) || attributionStart.test(line)
}

/**
 * Whether a line can be the first of a wrapped attribution: surely ("On …", "Am …") or
 * possibly (a date, a weekday as in "чт, …").
 */
export function beginsAttribution (line: string, surely: boolean): boolean {
  const text = line.trim()
  return attributionStart.test(text) || (!surely && (/^\p{N}/u.test(text) || /^\p{L}{1,4}\.?,\s/u.test(text)))
}

/** Whether an attribution line stands on its own rather than ending one wrapped from above. */
export function completesAttribution (line: string): boolean {
  const text = line.trim()
  return attributionStart.test(text) || (/^[\p{Lu}\p{N}]/u.test(text) && !/^[^\s<>]+@[^\s<>]+>/.test(text))
}

/** `-----Original Message-----` and its translations, between runs of dashes. */
const originalMessage = /^\s*-{2,}\s?(?:Original Message|Original message|Ursprüngliche Nachricht|Originalnachricht|Message d'origine|Message d’origine|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Origineel bericht|Originalmeddelande|Ursprungligt meddelande|Opprinnelig melding|Oprindelig meddelelse|Original meddelelse|Wiadomość oryginalna|Oryginalna wiadomość|Исходное сообщение|Mensagem original|Alkuperäinen viesti|Původní zpráva|Eredeti üzenet|Orijinal mesaj|Original|Reply message|邮件原件|原始邮件|原始郵件|元のメッセージ|Thư gốc)\s?-{2,}\s*$/iu

/** The field names of a quoted header block: who sent it… */
const fromLabel = /^\s*[*_]{0,2}(?:From|Von|De|Van|Fra|Från|Od|Da|От|Від|Lähettäjä|Feladó|Kimden|Odesílatel|Afzender|Remetente|差出人|发件人|寄件者|寄件人|보낸 사람|Từ)[*_]{0,2}\s?[:：]/iu
/** …and when. */
const dateLabel = /^\s*[*_]{0,2}(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Enviado el|Enviada|Fecha|Verzonden|Sendt|Skickat|Wysłano|Data|Inviato|Отправлено|Дата|Надіслано|Lähetetty|Päivämäärä|Elküldve|Dátum|Gönderildi|Tarih|Odesláno|送信日時|日時|发送时间|發送時間|寄件日期|日期|时间|보낸 날짜|Đã gửi|Ngày)[*_]{0,2}\s?[:：]/iu

/** Field names are short: a line without a colon near its start is no header line (a cheap test first). */
const labelled = (line: string): boolean => line.length <= markerLineLimit && /[:：]/.test(line.slice(0, 40))

export function isFromLine (line: string): boolean {
  return labelled(line) && fromLabel.test(line)
}

export function isDateLine (line: string): boolean {
  return labelled(line) && dateLabel.test(line)
}

/** Zoho writes its attribution between dashes: "---- On Thu, 26 Nov 2026 … Ada wrote ----". */
const dashedAttribution = /^\s*-{2,}\s?On\b.{1,300}\bwrote\s?-{2,}\s*$/iu

export function isOriginalMessageLine (line: string): boolean {
  return line.length <= markerLineLimit && line.trimEnd().endsWith('-') && (originalMessage.test(line) || dashedAttribution.test(line))
}

/** The long rule Outlook draws above the header block of the message answered. */
export function isOutlookRule (line: string): boolean {
  return line.length <= markerLineLimit && /^\s*_{10,}\s*$/.test(line)
}

/** Lines that begin a forwarded message, which is content the sender wants us to read. */
const forwardLines = [
  /^\s*-{2,}\s?(?:Forwarded message|Forwarded Message|Weitergeleitete Nachricht|Message transféré|Message transfere|Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht|Doorgestuurd Bericht|Videresendt melding|Videresendt meddelelse|Vidarebefordrat meddelande|Wiadomość przekazana dalej|Przekazana wiadomość|Пересылаемое сообщение|Пересланное сообщение|Mensagem encaminhada|Mensagem reencaminhada|Välitetty viesti|Továbbított üzenet|Přeposlaná zpráva|İletilen ileti|转发的邮件|轉寄的郵件|転送されたメッセージ|Thư đã chuyển tiếp)\s?-{2,}\s*$/iu,
  /^\s*(?:Begin forwarded message|Début du message réexpédié|Début du message transféré|Anfang der weitergeleiteten Nachricht|Inicio del mensaje reenviado|Comienzo del mensaje reenviado|Inizio messaggio inoltrato|Begin doorgestuurd bericht|Vidarebefordrat brev|Videresendt besked|Videresendt melding|Początek przekazywanej wiadomości|Начало переадресованного сообщения|Início da mensagem reencaminhada|Início da mensagem encaminhada|Välitetty viesti alkaa|転送されたメッセージ|转发的邮件)\s?[:：]\s*$/iu
]

export function isForwardLine (line: string): boolean {
  return line.length <= markerLineLimit && /[-:：]$/.test(line.trimEnd()) && forwardLines.some((pattern) => pattern.test(line))
}

/** A subject saying the message is a forward ("Fwd:", "WG:", "TR:", "RV:", "Doorst:", …). */
export function isForwardSubject (subject: string): boolean {
  // "Re: Fwd: …" answers a forward: what it quotes is history.
  return /^\s*(?:\[[^\]]{0,100}\]\s*)?(?:Fwd?|FW|WG|TR|RV|ENC|Doorst|VB|VL|PD|Rif|Пересл|转发|轉寄|転送)\s?[:：]/iu.test(subject)
}

/** Signatures that mobile and webmail clients add on their own. */
const deviceSignatures = [
  /^Sent from [\p{L}\p{N}][\p{L}\p{N}\p{Zs}\p{S}.,'’&()/-]{0,60}$/iu,
  /^Sent (?:via|with|using) [\p{L}\p{N}][\p{L}\p{N}\p{Zs}\p{S}.,'’&()/-]{0,60}$/iu,
  /^(?:Get Outlook for|Obtenir Outlook pour|Obtener Outlook para|Scarica Outlook per|Obter o Outlook para|Outlook für) [\p{L}\p{N}][\p{L}\p{N}\p{Zs}\p{S}.,'’&()/-]{0,40}$/iu,
  /^Von [\p{L}\p{N}][\p{L}\p{N}\p{Zs}\p{S}.,'’&()/-]{0,60} gesendet\.?$/iu,
  /^(?:Gesendet (?:von|mit|vom|über)|Envoyé (?:de|depuis|à partir de)|Odesláno z|Enviado (?:desde|de|do|con)|Enviada (?:desde|do)|Inviato da|Verzonden (?:vanaf|met|van)|Verstuurd (?:vanaf|met)|Skickat från|Sendt fra|Wysłane z|Wysłano z|Отправлено с|Отправлено из|Gửi từ|Lähetetty) [\p{L}\p{N}][\p{L}\p{N}\p{Zs}\p{S}.,'’&()/-]{0,60}$/iu,
  /^[\p{L}\p{N} ]{1,40}(?:から送信|에서 보냄)$/u,
  /^[\p{L}\p{N} '’]{1,40} gönderildi$/iu,
  /^(?:发自我的|來自我的|从我的)[\p{L}\p{N} ]{1,40}$/u,
  /^從我的[\p{L}\p{N} ]{1,40}傳送$/u
]

/** The words every device signature above begins or ends with (a cheap test first). */
const deviceSignatureWord = /^(?:Sent|Get|Von|Gesendet|Envoy|Envia|Inviato|Verzonden|Verstuurd|Skickat|Sendt|Wysłan|Отправлено|Gửi|Lähetetty|发自|來自|从我|從我|Obten|Obtenir|Obter|Scarica|Outlook|Odesláno)|から送信|에서 보냄|gönderildi/iu

/** A signature's first line: the RFC 3676 "-- " delimiter or a device's own line. */
export function isSignatureStart (line: string): boolean {
  if (line.length > 200) return false
  if (/^--\s?$/.test(line)) return true
  if (line.length < 8 || !deviceSignatureWord.test(line)) return false
  // "Get Outlook for iOS<https://aka.ms/o0ukef>": the link does not count.
  const bare = line.replace(/\s*<https?:\/\/[^<>\s]{1,150}>\s*$/, '').trim()
  return deviceSignatures.some((pattern) => pattern.test(bare))
}

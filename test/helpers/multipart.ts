import { randomBytes } from 'node:crypto'

export interface FileToSend {
  name: string
  content: Buffer | string
  type?: string
}

/**
 * A multipart/form-data body as a browser builds it: fields first, in order, then the files
 * under one field name, each file name in UTF-8 with `"`, CR and LF written as %22, %0D, %0A
 * (the HTML standard's rule).
 */
export function multipartBody (fields: Iterable<[string, string]>, files: readonly FileToSend[], fileField = 'files'): { body: Buffer, contentType: string } {
  const boundary = `----TesseraTest${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const [name, value] of fields) {
    if (name === fileField) continue
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  const sent = files.length > 0 ? files : [{ name: '', content: '', type: 'application/octet-stream' }]
  for (const file of sent) {
    const name = file.name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A')
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="${name}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`))
    chunks.push(Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` }
}

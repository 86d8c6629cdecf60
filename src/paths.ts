import { fileURLToPath } from 'node:url'

// This file runs from src/ under tsx and tap, and from dist/src/ once built.
const fromSource = import.meta.url.endsWith('.ts')

export const projectRoot = fileURLToPath(new URL(fromSource ? '../' : '../../', import.meta.url))
export const viewsDir = projectRoot + 'views'
export const publicDir = projectRoot + 'public'

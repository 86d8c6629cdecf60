// After htmx changes part of a staff page, focus goes to what changed (or to the problem),
// so keyboard and screen-reader users are never left on a removed element or the body.
// Background refreshes never move focus. Plain ES5: it runs wherever htmx does.
(function () {
  'use strict'

  function focus (el) {
    if (!el) return
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1')
    el.focus()
  }

  function markTitle (hasError) {
    const title = document.title.replace(/^Error: /, '')
    document.title = hasError ? 'Error: ' + title : title
  }

  document.addEventListener('htmx:beforeSwap', function (event) {
    const target = event.detail.target
    // "Also viewing" is polled: the same names swapped in again would be announced again.
    if (target && target.id === 'viewers' && event.detail.serverResponse.trim() === target.innerHTML.trim()) {
      event.detail.shouldSwap = false
    }
  })

  document.addEventListener('htmx:afterSettle', function (event) {
    const detail = event.detail
    const id = detail.target && detail.target.id
    if (id === 'viewers' || id === 'queue-rows' || id === 'queue-counts') return
    const problem = document.querySelector('.error-summary, [role=alert]')
    markTitle(!!problem)
    if (problem) return focus(problem)
    const path = (detail.requestConfig && detail.requestConfig.path) || ''
    if (id === 'conversation') {
      if (/\/draft$/.test(path)) return focus(document.getElementById('composer-message'))
      return focus(document.querySelector('#conversation .thread > li:last-child'))
    }
    if (id === 'ticket-summary') return focus(document.getElementById('summary-title'))
    if (id === 'queue-results') return focus(document.querySelector('#queue-results table'))
  })
})()

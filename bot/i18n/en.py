"""English texts."""

MESSAGES: dict[str, str] = {
    "help": (
        "/pqr commands:\n"
        "• list [mine|open|breached|all|type:TYPE|area:AREA|status:STATE] — list PQRs\n"
        "• show RAD — show one PQR\n"
        "• new — file a PQR taken by phone or in person\n"
        "• assign RAD @user — assign\n"
        "• take RAD — assign it to me\n"
        "• reply RAD text — answer the customer on their channel\n"
        "• note RAD text — internal note\n"
        "• status RAD state [-- reason] — change state\n"
        "• close RAD text — final answer and close\n"
        "• reopen RAD [-- reason] — reopen\n"
        "• due RAD <when> -- reason — extension, e.g. \"due PQR-2026-000123 next friday -- waiting for a report\"\n"
        "• stats — queue figures\n"
        "• help — this help"
    ),
    "unknown_verb": "I don't know the command \"{verb}\".",
    "unbalanced_quotes": "The command has an unclosed quote.",
    "usage": "Usage: {usage}",
    "usage.show": "/pqr show RADICADO",
    "usage.assign": "/pqr assign RADICADO @user",
    "usage.take": "/pqr take RADICADO",
    "usage.reply": "/pqr reply RADICADO text for the customer",
    "usage.note": "/pqr note RADICADO internal text",
    "usage.status": "/pqr status RADICADO STATE [-- reason]",
    "usage.close": "/pqr close RADICADO final answer text",
    "usage.reopen": "/pqr reopen RADICADO [-- reason]",
    "usage.due": "/pqr due RADICADO <when> -- reason (e.g. \"next friday\", \"December 15\", \"in 5 business days\")",
    "usage.new": "/pqr new TYPE \"name\" customer@email.co subject… (types: {types})",
    "not_available": "\"{verb}\" is not available on this channel yet.",
    "not_staff": "Only customer-service staff may use /pqr. The attempt was recorded.",
    "assignee_not_staff": "{who} is not configured staff (roles.staff); cannot assign to them.",
    "not_found": "PQR {radicado} not found.",
    "bad_radicado": "\"{text}\" does not look like a radicado. Example: PQR-2026-000123.",
    "invalid_transition": "Cannot go from \"{current}\" to \"{wanted}\". From \"{current}\" the allowed states are: {allowed}.",
    "no_transitions": "none",
    "unknown_status": "Unknown state \"{state}\". States: {states}.",
    "unknown_type": "Unknown type \"{type}\". Types: {types}.",
    "unknown_filter": "Unknown filter \"{filter}\". Filters: mine, open, breached, all, type:TYPE, area:AREA, status:STATE.",
    "empty_text": "The text is missing.",
    "unreadable_date": "I could not read the date \"{text}\". Examples: \"friday\", \"next friday\", \"December 15\", \"in 5 business days\".",
    "past_date": "\"{text}\" reads as {understood}, which has passed.",
    "ext.reason_required": "An extension needs a reason after \"--\". Example: /pqr due PQR-2026-000123 friday -- waiting for a technical report",
    "ext.already_extended": "This PQR was already extended; the law allows one extension.",
    "ext.closed": "The PQR is closed; it cannot be extended.",
    "ext.past_due": "The due date has passed ({limit}); it can no longer be extended.",
    "ext.not_business_day": "{limit} is not a business day; pick a business day.",
    "ext.not_later": "The new date must be after the current due date ({limit}).",
    "ext.over_limit": "The extension cannot go past {limit} (the legal limit for this type).",
    "invalid_input": "Invalid value: {detail}",
    "internal_error": "Something failed while handling the command; it was logged. Please try again.",
    "filed": "Filed {radicado} ({type}); due {due}.",
    "assigned": "{radicado} assigned to {assignee}.",
    "replied": "Reply sent to {customer} by {channel} ({radicado}).",
    "replied_unreachable": "Reply saved in {radicado}, but the customer has no reply channel (email or Telegram).",
    "noted": "Internal note added to {radicado}.",
    "status_changed": "{radicado}: {from_} → {to}.",
    "closed": "{radicado} closed.",
    "reopened": "{radicado} reopened; new due date {due}.",
    "extended": "{radicado}: due date extended from {from_} to {to}. Reason: {reason}",
    "list_header": "{count} PQRs ({title})",
    "list_more": "… and {more} more (use filters to narrow).",
    "list_empty": "No PQRs match ({title}).",
    "list.open": "open",
    "list.all": "all",
    "list.breached": "breached",
    "list.mine": "assigned to me",
    "stats": "Open: {open}. Breached: {breached}.\nBy state: {by_status}\nBy type: {by_type}",
    "label.radicado": "Radicado",
    "label.type": "Type",
    "label.customer": "Customer",
    "label.channel": "Channel",
    "label.status": "Status",
    "label.due": "Due",
    "label.assignee": "Assignee",
    "label.unassigned": "unassigned",
    "label.area": "Area",
    "label.last_message": "Last message",
    "label.subject": "Subject",
    "label.extended": "extended",
    "sla.breached": "BREACHED",
    "sla.near_breach": "due soon",
    "sla.ok": "on time",
    "sla.closed": "closed",
    "button.take": "Assign to me",
    "button.open": "Open",
    "button.reply": "Reply",
    "type.peticion": "Petition",
    "type.peticion_informacion": "Request for documents or information",
    "type.consulta": "Inquiry",
    "type.queja": "Complaint",
    "type.reclamo": "Claim",
    "type.sugerencia": "Suggestion",
    "type.felicitacion": "Compliment",
    "type.habeas_consulta": "Personal data inquiry",
    "type.habeas_reclamo": "Personal data claim",
    "status.radicada": "filed",
    "status.asignada": "assigned",
    "status.en_tramite": "in progress",
    "status.esperando_cliente": "waiting for customer",
    "status.respondida": "answered",
    "status.cerrada": "closed",
    "status.reabierta": "reopened",
    "customer.ack_subject": "[{radicado}] We received your {type}",
    "customer.ack": (
        "We received your {type} under filing number {radicado}.\n"
        "Received: {received}.\n"
        "Answer due by: {due}.\n"
        "To add information, reply to this message keeping the filing number in the subject."
    ),
    "customer.reply_subject": "[{radicado}] Answer to your {type}",
    "customer.extension_subject": "[{radicado}] Extension of the answer term",
    "customer.extension": (
        "The term to answer your {type} with filing number {radicado} is extended to {due}.\n"
        "Reason: {reason}"
    ),
    "customer.closing_subject": "[{radicado}] Final answer to your {type}",
}

"""Textos en español (idioma por defecto)."""

MESSAGES: dict[str, str] = {
    # -- help and usage ------------------------------------------------------------------------
    "help": (
        "Comandos de /pqr:\n"
        "• list [mine|open|breached|all|type:TIPO|area:AREA|status:ESTADO] — listar (alias: listar)\n"
        "• show RAD — ver una PQR (ver)\n"
        "• new — radicar una PQR tomada por teléfono o en persona (nueva)\n"
        "• assign RAD @usuario — asignar (asignar)\n"
        "• take RAD — tomarla yo (tomar)\n"
        "• reply RAD texto — responder al cliente por su canal (responder)\n"
        "• note RAD texto — nota interna (nota)\n"
        "• status RAD estado [-- motivo] — cambiar estado (estado)\n"
        "• close RAD texto — respuesta final y cierre (cerrar)\n"
        "• reopen RAD [-- motivo] — reabrir (reabrir)\n"
        "• due RAD <cuándo> -- motivo — prórroga, p. ej. «due PQR-2026-000123 el próximo viernes -- falta un soporte» (plazo)\n"
        "• stats — cifras de la cola\n"
        "• help — esta ayuda (ayuda)"
    ),
    "unknown_verb": "No conozco el comando «{verb}».",
    "unbalanced_quotes": "Hay comillas sin cerrar en el comando.",
    "usage": "Uso: {usage}",
    "usage.show": "/pqr show RADICADO",
    "usage.assign": "/pqr assign RADICADO @usuario",
    "usage.take": "/pqr take RADICADO",
    "usage.reply": "/pqr reply RADICADO texto para el cliente",
    "usage.note": "/pqr note RADICADO texto interno",
    "usage.status": "/pqr status RADICADO ESTADO [-- motivo]",
    "usage.close": "/pqr close RADICADO texto de la respuesta final",
    "usage.reopen": "/pqr reopen RADICADO [-- motivo]",
    "usage.due": "/pqr due RADICADO <cuándo> -- motivo (p. ej. «el próximo viernes», «15 de diciembre», «en 5 días hábiles»)",
    "usage.new": "/pqr new TIPO \"nombre\" email@cliente.co asunto… (tipos: {types})",
    "not_available": "«{verb}» todavía no está disponible en este canal.",
    # -- refusals ------------------------------------------------------------------------------
    "not_staff": "Solo el personal de atención puede usar /pqr. El intento quedó registrado.",
    "assignee_not_staff": "{who} no está en el personal configurado (roles.staff); no se le puede asignar.",
    "not_found": "No encontré la PQR {radicado}.",
    "bad_radicado": "«{text}» no parece un radicado. Ejemplo: PQR-2026-000123.",
    "invalid_transition": "No se puede pasar de «{current}» a «{wanted}». Desde «{current}» se permite: {allowed}.",
    "no_transitions": "ninguno",
    "unknown_status": "Estado desconocido «{state}». Estados: {states}.",
    "unknown_type": "Tipo desconocido «{type}». Tipos: {types}.",
    "unknown_filter": "Filtro desconocido «{filter}». Filtros: mine, open, breached, all, type:TIPO, area:AREA, status:ESTADO.",
    "empty_text": "Falta el texto.",
    "unreadable_date": "No entendí la fecha «{text}». Ejemplos: «viernes», «el próximo viernes», «15 de diciembre», «en 5 días hábiles».",
    "past_date": "«{text}» se entiende como {understood}, que ya pasó.",
    "ext.reason_required": "La prórroga necesita un motivo después de «--». Ejemplo: /pqr due PQR-2026-000123 viernes -- se requiere concepto técnico",
    "ext.already_extended": "La PQR ya tuvo su prórroga; la ley permite una sola.",
    "ext.closed": "La PQR está cerrada; no se puede prorrogar.",
    "ext.past_due": "El plazo ya venció ({limit}); después del vencimiento no se puede prorrogar.",
    "ext.not_business_day": "{limit} no es día hábil; elija un día hábil.",
    "ext.not_later": "La nueva fecha debe ser posterior al vencimiento actual ({limit}).",
    "ext.over_limit": "La prórroga no puede pasar de {limit} (el límite legal para este tipo).",
    "invalid_input": "Dato no válido: {detail}",
    "internal_error": "Algo falló al procesar el comando; quedó registrado en el log. Intente de nuevo.",
    # -- results -------------------------------------------------------------------------------
    "filed": "Radicada {radicado} ({type}); vence {due}.",
    "assigned": "{radicado} asignada a {assignee}.",
    "replied": "Respuesta enviada a {customer} por {channel} ({radicado}).",
    "replied_unreachable": "Respuesta guardada en {radicado}, pero el cliente no tiene un canal de respuesta (email o Telegram).",
    "noted": "Nota interna agregada a {radicado}.",
    "status_changed": "{radicado}: {from_} → {to}.",
    "closed": "{radicado} cerrada.",
    "reopened": "{radicado} reabierta; nuevo vencimiento {due}.",
    "extended": "{radicado}: plazo prorrogado de {from_} a {to}. Motivo: {reason}",
    "list_header": "{count} PQR ({title})",
    "list_more": "… y {more} más (use filtros para acotar).",
    "list_empty": "No hay PQR que cumplan el filtro ({title}).",
    "list.open": "abiertas",
    "list.all": "todas",
    "list.breached": "vencidas",
    "list.mine": "asignadas a mí",
    "stats": "Abiertas: {open}. Vencidas: {breached}.\nPor estado: {by_status}\nPor tipo: {by_type}",
    # -- card labels ---------------------------------------------------------------------------
    "label.radicado": "Radicado",
    "label.type": "Tipo",
    "label.customer": "Cliente",
    "label.channel": "Canal",
    "label.status": "Estado",
    "label.due": "Vence",
    "label.assignee": "Asignada a",
    "label.unassigned": "sin asignar",
    "label.area": "Área",
    "label.last_message": "Último mensaje",
    "label.subject": "Asunto",
    "label.extended": "prorrogada",
    "sla.breached": "VENCIDA",
    "sla.near_breach": "por vencer",
    "sla.ok": "a tiempo",
    "sla.closed": "cerrada",
    "button.take": "Asignarme",
    "button.open": "Ver",
    "button.reply": "Responder",
    # -- names ---------------------------------------------------------------------------------
    "type.peticion": "Petición",
    "type.peticion_informacion": "Petición de documentos o información",
    "type.consulta": "Consulta",
    "type.queja": "Queja",
    "type.reclamo": "Reclamo",
    "type.sugerencia": "Sugerencia",
    "type.felicitacion": "Felicitación",
    "type.habeas_consulta": "Consulta de datos personales",
    "type.habeas_reclamo": "Reclamo de datos personales",
    "status.radicada": "radicada",
    "status.asignada": "asignada",
    "status.en_tramite": "en trámite",
    "status.esperando_cliente": "esperando al cliente",
    "status.respondida": "respondida",
    "status.cerrada": "cerrada",
    "status.reabierta": "reabierta",
    # -- customer-facing -----------------------------------------------------------------------
    "customer.ack_subject": "[{radicado}] Hemos recibido su {type}",
    "customer.ack": (
        "Hemos recibido su {type} con el radicado {radicado}.\n"
        "Fecha de recibo: {received}.\n"
        "Fecha máxima de respuesta: {due}.\n"
        "Para agregar información, responda a este mensaje conservando el radicado en el asunto."
    ),
    "customer.reply_subject": "[{radicado}] Respuesta a su {type}",
    "customer.extension_subject": "[{radicado}] Ampliación del plazo de respuesta",
    "customer.extension": (
        "Le informamos que el plazo para responder su {type} con radicado {radicado} se amplía hasta "
        "el {due}.\nMotivo: {reason}"
    ),
    "customer.closing_subject": "[{radicado}] Respuesta final a su {type}",
}

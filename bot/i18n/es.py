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
    # -- intake (messages that arrive by a channel) --------------------------------------------
    "intake.no_subject": "(sin asunto)",
    "intake.no_text": "(mensaje sin texto)",
    "intake.only_attachments": "(mensaje sin texto; adjuntos: {files})",
    "intake.reopened_by_customer": "el cliente volvió a escribir ({channel})",
    # -- slack -----------------------------------------------------------------------------------
    "slack.not_staff_button": "Solo el personal de atención puede usar estos botones. El intento quedó registrado.",
    "slack.triage_header": "Nueva PQR {radicado}",
    "slack.updated_by": "Última acción: {action} por {actor}",
    "slack.page": "Página {page} de {pages}",
    "slack.page_prev": "◀ Anterior",
    "slack.page_next": "Siguiente ▶",
    "slack.intake_title": "Nueva PQR",
    "slack.intake_submit": "Radicar",
    "slack.cancel": "Cancelar",
    "slack.intake_type": "Tipo",
    "slack.intake_channel": "Recibida por",
    "slack.channel_phone": "Teléfono",
    "slack.channel_in_person": "Presencial",
    "slack.intake_name": "Nombre del cliente",
    "slack.intake_email": "Correo del cliente",
    "slack.intake_phone": "Teléfono del cliente",
    "slack.intake_subject": "Asunto",
    "slack.intake_body": "Descripción",
    "slack.err_contact": "Indique un correo o un teléfono para responderle al cliente.",
    "slack.err_email": "No parece un correo válido (ejemplo: ana@example.co).",
    "slack.err_required": "Este campo es obligatorio.",
    "slack.reply_title": "Responder al cliente",
    "slack.reply_submit": "Enviar",
    "slack.reply_label": "Respuesta para el cliente ({radicado})",
    # -- scheduler: alerts, digest, outbox ------------------------------------------------------
    "alert.near_breach": "⏰ {radicado} ({type}) vence {due}: {subject} — {assignee}",
    "alert.breached": "⚠ {radicado} ({type}) VENCIDA desde {due}: {subject} — {assignee}",
    "digest.title": "Resumen de ANS — {at}",
    "digest.breached": "Vencidas",
    "digest.due_today": "Vencen hoy",
    "digest.due_soon": "Por vencer",
    "digest.group": "{area} · {assignee}: {count}",
    "digest.no_area": "sin área",
    "digest.subject": "Resumen de ANS {day}",
    "outbox.dead": "No se pudo entregar un mensaje a {channel}:{destination} tras {attempts} intentos ({radicado}): {error}",
    # -- telegram ---------------------------------------------------------------------------------
    "tg.welcome": "Hola, {name}. Aquí puede radicar peticiones, quejas, reclamos, sugerencias y felicitaciones, y consultar su estado. ¿Qué desea hacer?",
    "tg.btn.file": "Radicar PQR",
    "tg.btn.status": "Consultar estado",
    "tg.btn.continue": "Continuar",
    "tg.btn.skip": "Omitir",
    "tg.btn.confirm": "Confirmar",
    "tg.btn.cancel": "Cancelar",
    "tg.ask_type": "¿Qué tipo de PQR desea radicar?",
    "tg.ask_description": "Describa su {type}. Puede enviar texto, fotos y documentos; cuando termine, pulse «Continuar».",
    "tg.part_added": "Recibido ({parts} en total). Envíe más texto, fotos o documentos, o pulse «Continuar».",
    "tg.need_description": "Primero escriba la descripción (o envíe una foto o un documento).",
    "tg.ask_email": "Si quiere recibir también la respuesta por correo, escriba su correo electrónico; si no, pulse «Omitir».",
    "tg.bad_email": "«{text}» no parece un correo válido (ejemplo: ana@example.co). Escríbalo de nuevo o pulse «Omitir».",
    "tg.confirm": "<b>Revise su PQR</b>\nTipo: {type}\nDescripción: {description}\nAdjuntos: {attachments}\nCorreo: {email}\n\n¿La radicamos?",
    "tg.none": "ninguno",
    "tg.filed": "Su {type} quedó radicada con el número <b>{radicado}</b>.\nFecha máxima de respuesta: {due}.\nPara agregar información, responda a este mensaje.",
    "tg.cancelled": "Cancelado: no se radicó nada. Escriba /start para empezar de nuevo.",
    "tg.expired": "La conversación se cerró por inactividad y no se radicó nada. Escriba /start para empezar de nuevo.",
    "tg.nothing_to_cancel": "No hay nada en curso. Escriba /start para radicar o consultar una PQR.",
    "tg.status_usage": "Escriba /estado seguido del radicado, por ejemplo: /estado PQR-2026-000123",
    "tg.not_found": "No encontré la PQR {radicado} entre las radicadas desde este chat.",
    "tg.status": "<b>{radicado}</b> — {type}\nEstado: {status}\nRadicada: {received}\nFecha máxima de respuesta: {due}",
    "tg.my_pqrs": "Sus PQR radicadas desde este chat:\n{lines}\n\nPara ver una, escriba /estado RADICADO.",
    "tg.no_pqrs": "No hay PQR radicadas desde este chat. Pulse «Radicar PQR» para radicar una.",
    "tg.followup_added": "Agregamos su mensaje a la PQR <b>{radicado}</b>.",
    "tg.unsupported": "Solo puedo recibir texto, fotos y documentos. Escriba /start para ver las opciones.",
    "tg.help": "Escriba /start para radicar una PQR o consultar su estado. Para agregar información a una PQR, responda al mensaje del bot que la menciona.",
    "tg.reply": "<b>Respuesta a su PQR {radicado}</b>\n\n{text}",
    "tg.closing": "<b>Respuesta final a su PQR {radicado}</b>\n\n{text}",
    "tg.notice": "<b>{subject}</b>\n\n{text}",
    "tg.not_manager": "Esta acción es solo para gerentes. El intento quedó registrado.",
    "tg.stale_button": "Este botón ya no está vigente.",
    "tg.unreachable_note": "Telegram: el cliente bloqueó el bot (chat {chat}); ya no se le puede escribir por Telegram. Mensaje no entregado: {kind}.",
    "tg.cmd.start": "Radicar o consultar una PQR",
    "tg.cmd.status": "Estado de una PQR: /estado RADICADO",
    "tg.cmd.cancel": "Cancelar la radicación en curso",
    # -- penalties
    "penalty.category.kpi_ans": "KPI / ANS",
    "penalty.category.multas_sanciones": "Multas y sanciones",
    "penalty.category.diferencias_inventario": "Diferencias de inventario",
    "penalty.category.postventa": "Posventa",
    "penalty.status.notificada": "notificada",
    "penalty.status.en_evaluacion": "en evaluación",
    "penalty.status.aprobada": "aprobada",
    "penalty.status.rechazada": "rechazada",
    "penalty.status.cliente_notificada": "cliente notificado",
    "penalty.status.pago_autorizado": "pago autorizado",
    "penalty.status.pagada": "pagada",
    "penalty.button.approve": "Aprobar",
    "penalty.button.reject": "Rechazar",
    "penalty.usage": (
        "Uso: penalty new \"CLIENTE\" CATEGORÍA MONTO ÁREA [MONEDA] [PQR-…] [-- descripción] · "
        "penalty evidence ID texto · penalty list [ESTADO] · penalty show ID · "
        "penalty approve ID -- motivo · penalty reject ID -- motivo · penalty paid ID · "
        "penalty notify ID · penalty report AAAA-MM"
    ),
    "penalty.unknown_category": "No conozco la categoría «{category}». Categorías: {categories}.",
    "penalty.unknown_status": "No conozco el estado «{status}». Estados: {statuses}.",
    "penalty.not_found": "No encontré la {what}.",
    "penalty.not_manager": "Solo un gerente puede aprobar o rechazar penalidades. El intento quedó registrado.",
    "penalty.already_decided": "La penalidad #{id} ya fue decidida ({decision}, por {by}); no cambió nada.",
    "penalty.wrong_state": "La penalidad #{id} está {status}: esa acción no se permite en ese estado.",
    "penalty.reason_required": "Indique el motivo después de --, p. ej. penalty approve 12 -- incumplimos el ANS.",
    "penalty.bad_month": "«{month}» no es un mes; escríbalo como AAAA-MM, p. ej. 2026-12.",
    "penalty.registered": "Penalidad #{id} registrada; se pidió evidencia al área responsable.",
    "penalty.evidence_added": "Evidencia agregada a la penalidad #{id} (estado: {status}).",
    "penalty.approved": "Penalidad #{id} aprobada (estado: {status}).",
    "penalty.rejected": "Penalidad #{id} rechazada (estado: {status}).",
    "penalty.paid": "Penalidad #{id} marcada como pagada.",
    "penalty.notified": "Penalidad #{id}: cliente notificado (estado: {status}).",
    "penalty.list_empty": "No hay penalidades.",
    "penalty.list_header": "{count} penalidad(es):",
    "penalty.card": "Penalidad #{id} · {client} · {category} · {amount} · área {area} · {status} · PQR {pqr}",
    "penalty.evidence_line": "Evidencia: {evidence}",
    "penalty.decision_line": "Decisión: {decision} por {by} — {reason}",
    "penalty.notice.evidence_subject": "Penalidad #{id} de {client}: se requiere evidencia",
    "penalty.notice.evidence_text": (
        "{client} notificó la penalidad #{id} ({category}, {amount}) al área {area}.\n"
        "Descripción: {description}\n"
        "Envíe la evidencia y la justificación con: /pqr penalty evidence {id} texto"
    ),
    "penalty.notice.decision_subject": "Decidir penalidad #{id} de {client}",
    "penalty.notice.decision_text": (
        "Penalidad #{id} de {client}\nCategoría: {category}\nMonto: {amount}\nÁrea: {area}\n"
        "Evidencia: {evidence}\n¿Aprobar o rechazar? (/pqr penalty approve|reject {id} -- motivo)"
    ),
    "penalty.notice.client_subject": "Respuesta a la penalidad #{id}",
    "penalty.notice.client_text": (
        "Señores {client}:\nSobre la penalidad #{id} ({category}, {amount}), la decisión es: {decision}.\n"
        "Motivo: {reason}"
    ),
    "penalty.notice.payment_subject": "Autorización de pago: penalidad #{id} de {client}",
    "penalty.notice.payment_text": (
        "Se autoriza el pago de la penalidad #{id} de {client} ({category}, {amount}, área {area}).\n"
        "Aprobada por {by}: {reason}\nCuando esté pagada: /pqr penalty paid {id}"
    ),
    "contract.usage": "Uso: contract list · contract show NOMBRE (contrato o cliente)",
    "contract.list_empty": "No hay contratos cargados (config.yaml → contracts.files; luego pqrbot contracts reload).",
    "contract.list_header": "{count} cliente(s):",
    "contract.none": "sin contrato",
    "contract.not_found": "No encontré el contrato ni el cliente «{name}».",
    "contract.card": "Contrato {name} · cliente {client} · NIT {nit} · pausa esperando al cliente: {pauses}",
    "contract.target": "  · {type}: primera respuesta {first}, resolución {resolution}",
    "contract.yes": "sí",
    "contract.no": "no",
}

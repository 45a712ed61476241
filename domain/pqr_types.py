"""PQR types, states and the workflow's allowed transitions."""

from __future__ import annotations

from enum import StrEnum


class PqrType(StrEnum):
    PETICION = "peticion"
    PETICION_INFORMACION = "peticion_informacion"
    CONSULTA = "consulta"
    QUEJA = "queja"
    RECLAMO = "reclamo"
    SUGERENCIA = "sugerencia"
    FELICITACION = "felicitacion"
    HABEAS_CONSULTA = "habeas_consulta"
    HABEAS_RECLAMO = "habeas_reclamo"


class Status(StrEnum):
    RADICADA = "radicada"
    ASIGNADA = "asignada"
    EN_TRAMITE = "en_tramite"
    ESPERANDO_CLIENTE = "esperando_cliente"
    RESPONDIDA = "respondida"
    CERRADA = "cerrada"
    REABIERTA = "reabierta"


class Channel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    PHONE = "phone"
    IN_PERSON = "in_person"
    SLACK = "slack"
    CONSOLE = "console"


# Forward moves of the workflow; `cerrada` is final until reopened.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.RADICADA: (Status.ASIGNADA, Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA),
    Status.ASIGNADA: (Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA),
    Status.EN_TRAMITE: (Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA),
    Status.ESPERANDO_CLIENTE: (Status.EN_TRAMITE, Status.RESPONDIDA, Status.CERRADA),
    Status.RESPONDIDA: (Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.CERRADA),
    Status.CERRADA: (Status.REABIERTA,),
    Status.REABIERTA: (Status.ASIGNADA, Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA),
}

OPEN_STATUSES = frozenset(s for s in Status if s is not Status.CERRADA)


def allowed_from(current: Status) -> tuple[Status, ...]:
    return TRANSITIONS[current]

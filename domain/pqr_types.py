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
    EN_REVISION = "en_revision"        # a final answer waits for a manager's approval


class Channel(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    PHONE = "phone"
    IN_PERSON = "in_person"
    SLACK = "slack"
    CONSOLE = "console"


# Forward moves of the workflow; `cerrada` is final until reopened. A final answer that needs a
# manager's approval goes to `en_revision` wherever a close could go, and leaves it only by the
# decision: approved (`cerrada`) or returned (`en_tramite`). Those moves (`is_review_move`) are
# made by the review methods of `domain.pqr.Pqr`, never by a plain status change.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.RADICADA: (Status.ASIGNADA, Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA,
                      Status.EN_REVISION),
    Status.ASIGNADA: (Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA,
                      Status.EN_REVISION),
    Status.EN_TRAMITE: (Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA, Status.EN_REVISION),
    Status.ESPERANDO_CLIENTE: (Status.EN_TRAMITE, Status.RESPONDIDA, Status.CERRADA, Status.EN_REVISION),
    Status.RESPONDIDA: (Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.CERRADA, Status.EN_REVISION),
    Status.CERRADA: (Status.REABIERTA,),
    Status.REABIERTA: (Status.ASIGNADA, Status.EN_TRAMITE, Status.ESPERANDO_CLIENTE, Status.RESPONDIDA, Status.CERRADA,
                       Status.EN_REVISION),
    Status.EN_REVISION: (Status.CERRADA, Status.EN_TRAMITE),
}

# `en_revision` is open: its clocks keep running while the answer waits.
OPEN_STATUSES = frozenset(s for s in Status if s is not Status.CERRADA)


def is_review_move(current: Status, to: Status) -> bool:
    """A move into or out of `en_revision`: only the approval workflow makes it."""
    return Status.EN_REVISION in (current, to)


def allowed_from(current: Status) -> tuple[Status, ...]:
    return TRANSITIONS[current]

"""The public VPS.org API: routes, request parsing and serialisation.

Mirrors moto's ``responses``/``urls`` split: this module turns HTTP into calls
on :class:`~pulumi_vpsbackup.fake.model.VpsModel` and model results or errors
back into DRF-shaped JSON. Order of checks follows DRF: an unknown path is a
404 before authentication; a known path checks the token, then the method.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from .errors import ApiError
from .http import Router, json_response, read_json_object
from .model import VpsModel

__all__ = ["API_PREFIX", "PublicApi"]

API_PREFIX = "/api/v1"
_INTEGER = re.compile(r"^[+-]?\d+$")
DESCRIPTION_MAX = 255
ACCOUNT = {
    "email": "demo@example.com",
    "first_name": "Demo",
    "last_name": "User",
    "company_name": "Example Ltd",
    "created_at": "2024-01-01T00:00:00Z",
}
TOKEN_INFO = {
    "name": "fake-token",
    "permissions": ["servers:read", "servers:write", "backups:read", "backups:write"],
}


def _require_int(data: dict[str, Any], name: str, errors: dict[str, list[str]]) -> int | None:
    """DRF IntegerField, strict: JSON integers only (not bools, not strings)."""
    if name not in data:
        errors[name] = ["This field is required."]
        return None
    value = data[name]
    if value is None:
        errors[name] = ["This field may not be null."]
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = ["A valid integer is required."]
        return None
    return value


class PublicApi:
    """Routes under ``/api/v1``; ``token`` is read through a callable so it can change."""

    def __init__(self, model: VpsModel, token: Callable[[], str]) -> None:
        self._model = model
        self._token = token
        p = API_PREFIX
        self._router = Router(
            {
                f"{p}/backups/": {"GET": self._list_backups, "POST": self._create_backup},
                f"{p}/backups/<int:backup_id>/": {"DELETE": self._delete_backup},
                f"{p}/servers/": {"GET": self._list_servers},
                f"{p}/servers/<int:server_id>/": {"GET": self._get_server},
                f"{p}/servers/<int:server_id>/restore/": {"POST": self._restore},
                f"{p}/account/me/": {"GET": self._me},
            }
        )

    def dispatch(self, request: Request) -> Response:
        try:
            handler, args = self._router.match(request)
        except NotFound:
            return json_response({"detail": "Not found."}, 404)
        except MethodNotAllowed as exc:
            denied = self._authenticate(request)
            if denied is not None:
                return denied
            allowed = ", ".join(sorted(set(exc.valid_methods or []) | {"OPTIONS"}))
            return json_response(
                {"detail": f'Method "{request.method}" not allowed.'}, 405, {"Allow": allowed}
            )
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        try:
            response: Response = handler(request, **args)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        return response

    def _authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header:
            return self._unauthorised("Authentication credentials were not provided.")
        parts = header.split()
        if not parts or parts[0].lower() != "bearer":
            # DRF's token authentication ignores other schemes entirely.
            return self._unauthorised("Authentication credentials were not provided.")
        if len(parts) == 1:
            return self._unauthorised("Invalid token header. No credentials provided.")
        if len(parts) > 2:
            return self._unauthorised(
                "Invalid token header. Token string should not contain spaces."
            )
        expected = self._token().encode()
        if not hmac.compare_digest(parts[1].encode(), expected):
            return self._unauthorised("Invalid token.")
        return None

    @staticmethod
    def _unauthorised(detail: str) -> Response:
        return json_response({"detail": detail}, 401, {"WWW-Authenticate": 'Bearer realm="api"'})

    # -- handlers ---------------------------------------------------------------

    def _list_backups(self, request: Request) -> Response:
        errors: dict[str, list[str]] = {}
        server_id: int | None = None
        raw_server = request.args.get("server_id", "")
        if raw_server:
            if _INTEGER.match(raw_server):
                server_id = int(raw_server)
            else:
                errors["server_id"] = ["A valid integer is required."]
        backup_type = request.args.get("backup_type", "") or None
        if backup_type is not None and backup_type not in ("manual", "automatic"):
            errors["backup_type"] = [
                f"Select a valid choice. {backup_type} is not one of the available choices."
            ]
        if errors:
            raise ApiError(errors)
        return self._page(request, self._model.list_backups(server_id, backup_type))

    def _create_backup(self, request: Request) -> Response:
        data = read_json_object(request)
        errors: dict[str, list[str]] = {}
        server_id = _require_int(data, "server_id", errors)
        description = ""
        if "description" in data:
            value = data["description"]
            if value is None:
                errors["description"] = ["This field may not be null."]
            elif not isinstance(value, str):
                errors["description"] = ["Not a valid string."]
            else:
                if self._model.behaviour.trim_descriptions:
                    value = value.strip()  # DRF's CharField(trim_whitespace=True)
                if len(value) > DESCRIPTION_MAX:
                    errors["description"] = [
                        f"Ensure this field has no more than {DESCRIPTION_MAX} characters."
                    ]
                else:
                    description = value
        if errors or server_id is None:
            raise ApiError(errors)
        return json_response(self._model.create_backup(server_id, description), 201)

    def _delete_backup(self, request: Request, backup_id: int) -> Response:
        self._model.delete_backup(backup_id)
        return json_response(None, 204)

    def _list_servers(self, request: Request) -> Response:
        status = request.args.get("status", "") or None
        location = request.args.get("location", "") or None
        return self._page(request, self._model.list_servers(status, location))

    def _get_server(self, request: Request, server_id: int) -> Response:
        return json_response(self._model.get_server(server_id))

    def _restore(self, request: Request, server_id: int) -> Response:
        data = read_json_object(request)
        # An unknown server is a 404 whatever the body says, as for a DRF detail route.
        self._model.require_server(server_id)
        errors: dict[str, list[str]] = {}
        backup_id = _require_int(data, "backup_id", errors)
        if errors or backup_id is None:
            raise ApiError(errors)
        return json_response(self._model.restore(server_id, backup_id))

    def _me(self, request: Request) -> Response:
        return json_response({"account": dict(ACCOUNT), "token": dict(TOKEN_INFO)})

    # -- pagination ---------------------------------------------------------------

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        """DRF PageNumberPagination when ``page_size`` is set, else one page."""
        size = self._model.behaviour.page_size
        if size is None:
            return json_response(
                {"count": len(rows), "next": None, "previous": None, "results": rows}
            )
        raw = request.args.get("page", "1")
        pages = max(1, -(-len(rows) // size))
        if not raw.isdigit() or not 1 <= int(raw) <= pages:
            raise ApiError({"detail": "Invalid page."}, 404)
        page = int(raw)
        return json_response(
            {
                "count": len(rows),
                "next": self._page_url(request, page + 1) if page < pages else None,
                "previous": self._page_url(request, page - 1) if page > 1 else None,
                "results": rows[(page - 1) * size : page * size],
            }
        )

    @staticmethod
    def _page_url(request: Request, page: int) -> str:
        params = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
        if page > 1:
            params.append(("page", str(page)))
        query = urlencode(params)
        return request.base_url + (f"?{query}" if query else "")

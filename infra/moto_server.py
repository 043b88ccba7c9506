"""moto server, with requests handled one at a time, less some of moto's needless work.

moto's DynamoDB is not safe under concurrent requests: a transaction that fails restores
a copy of the whole table taken when it started, erasing writes that other requests made
meanwhile. Real DynamoDB serializes conflicting writes, and our concurrency tests depend on
that, so this wrapper runs moto's own app behind one lock (connections stay concurrent;
only the backend work is serialized).

Behind that lock moto's speed is the AWS pass's speed. Profiled (py-spy, and the time each
request held the lock) over the black-box HTTP suite, moto was busy 80-90% of the pass,
mostly on work the tests do not need: writing responses through botocore's shapes (about
a third), copying whole tables for each transaction (a quarter), sorting whole tables for
each query, finding the service for each request, making RSA keys nobody signs with.
`speed_up_moto` below removes that work, each patch saying what it saves; what the
tests see (items, their order, pages, errors, rolled back transactions, stream records)
stays what moto answers. The patches are written against the moto version pinned in
infra/requirements-dev.txt and refuse to start on another.

It also answers `GET /crm-test/ses-messages` with the mail SES "sent" (to, subject,
body): moto's own `/moto-api/data.json` dumps every model instance, every stored item
included, which grows slow as tests fill the emulator.

Usage: python moto_server.py HOST PORT
"""

import base64
import copy
import functools
import json
import os
import sys
import threading

import moto
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

MOTO_VERSION = "5.2.5"


def speed_up_moto() -> None:
    if moto.__version__ != MOTO_VERSION:
        sys.exit(
            f"infra/moto_server.py patches moto {MOTO_VERSION}, found {moto.__version__}: "
            "check each patch against the new version, then update MOTO_VERSION"
        )
    transactions_save_only_the_items_they_write()
    queries_read_only_their_partition()
    attribute_values_serialized_as_they_are()
    services_found_once_per_host()
    kms_signing_keys_made_when_used()
    actions_listed_once_per_class()
    item_sizes_without_copies()


def transactions_save_only_the_items_they_write() -> None:
    """TransactWriteItems deep-copies every table it names before it starts, once per
    item it writes, so that a failed transaction can put the copy back: a quarter of
    moto's time, growing with the table (every item, every stream record).
    Here the items the transaction writes are saved instead, and put back in place if it
    fails (with the table's stream cut back to where it was); moto's own table copy is
    skipped (its deepcopy of a Table returns the table itself, so its "restore" is a no
    op). A transaction whose keys cannot be read here keeps moto's whole-table copy.
    Either way a failed transaction leaves nothing written, as on DynamoDB; requests are
    serialized (above), so nothing else writes between the save and the restore."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    class TableCopy:
        """`copy` as moto.dynamodb.models sees it: a table is not copied while `skip`."""

        skip = False

        def deepcopy(self, x, memo=None):
            if self.skip and isinstance(x, Table):
                return x
            return copy.deepcopy(x, memo)

        def __getattr__(self, name):
            return getattr(copy, name)

    table_copy = TableCopy()
    models.copy = table_copy
    moto_transact = DynamoDBBackend.transact_write_items

    def saved_state(backend, transact_items):
        """[(table, hash key, range key, deep copy of the item or None)] and each table's
        stream length; None when a written key cannot be read."""
        try:
            return save(backend, transact_items)
        except Exception:
            return None

    def save(backend, transact_items):
        items, streams = [], {}
        for entry in transact_items:
            if len(entry) != 1:
                return None
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None or op_type == "ConditionCheck":
                continue  # neither writes (a missing table fails the transaction)
            key = op["Item"] if op_type == "Put" else op["Key"]
            hash_key, range_key = backend.get_keys_value(table, key)
            before = copy.deepcopy(table.get_item(hash_key, range_key))
            items.append((table, hash_key, range_key, before))
            if table.stream_shard is not None:
                streams[table] = len(table.stream_shard.items)
        return items, streams

    def restore(items, streams):
        for table, hash_key, range_key, item in reversed(items):
            if range_key is None:
                if item is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = item
            elif item is None:
                if hash_key in table.items:
                    table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        for table, length in streams.items():
            if table.stream_shard is not None:
                del table.stream_shard.items[length:]

    @functools.wraps(moto_transact)
    def transact_write_items(self, transact_items):
        saved = saved_state(self, transact_items)
        if saved is None:
            return moto_transact(self, transact_items)
        table_copy.skip = True
        try:
            return moto_transact(self, transact_items)
        except BaseException:
            restore(*saved)
            raise
        finally:
            table_copy.skip = False

    DynamoDBBackend.transact_write_items = transact_write_items


def queries_read_only_their_partition() -> None:
    """Every Query lists and sorts all the items of its table (Table.all_items), then
    keeps those of the partition asked for (or, on an index, those whose index key
    matches), and sorts what it kept again. Here, during a Query, all_items returns the
    partition's items alone (on the table) or all items unsorted (on an index): the items
    kept are the same, and the sort that follows orders them fully (an index's sort ends
    with the table's own key), so the answer is too."""
    from moto.dynamodb.models.table import Table

    moto_query, moto_all_items = Table.query, Table.all_items

    @functools.wraps(moto_query)
    def query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
              scan_index_forward, projection_expressions, index_name=None, *args, **kwargs):
        self._crm_query = (index_name, hash_key)
        try:
            return moto_query(self, hash_key, range_comparison, range_objs, limit,
                              exclusive_start_key, scan_index_forward,
                              projection_expressions, index_name, *args, **kwargs)
        finally:
            del self._crm_query

    @functools.wraps(moto_all_items)
    def all_items(self):
        asked = getattr(self, "_crm_query", None)
        if asked is None:
            return moto_all_items(self)  # Scan and the rest page through it in order
        index_name, hash_key = asked
        if not self.range_key_attr:
            if index_name:
                return list(self.items.values())
            item = self.items.get(hash_key)
            return [] if item is None else [item]
        if index_name:
            return [item for partition in self.items.values() for item in partition.values()]
        return list(self.items.get(hash_key, {}).values())

    Table.query, Table.all_items = query, all_items


def attribute_values_serialized_as_they_are() -> None:
    """moto writes every response by walking the operation's output shape in botocore's
    model, looking each of a structure's members up under several aliases. An item's
    attribute values are such structures (ten members each, nested in maps and lists):
    writing Query and GetItem answers was a third of moto's time. moto has already
    turned them into DynamoDB's JSON ({"S": ...}, {"M": {...}}, B as bytes): they are
    written here as they are, base64 for binaries, as the shape walk writes them."""
    from moto.core.serialize import BaseJSONSerializer

    class NotAttributeValue(Exception):
        pass

    def b64(value):
        if isinstance(value, str):
            value = value.encode("utf-8")
        return base64.b64encode(value).strip().decode("utf-8")

    def scalar(value):
        # What the shape walk writes for a string member (_serialize_type_string).
        return str(value) if value not in [None, {}, []] else value

    def attribute_value(value):
        out = {}
        for member, v in value.items():
            if v is None:
                continue
            if member in ("S", "N"):
                out[member] = scalar(v)
            elif member == "B":
                out[member] = b64(v)
            elif member in ("SS", "NS"):
                out[member] = [scalar(x) for x in v]
            elif member == "BS":
                out[member] = [b64(x) for x in v]
            elif member == "M":
                out[member] = {k: attribute_value(x) for k, x in v.items()}
            elif member == "L":
                out[member] = [attribute_value(x) for x in v]
            elif member in ("NULL", "BOOL"):
                out[member] = v
            else:
                raise NotAttributeValue(member)
        return out

    moto_serialize = BaseJSONSerializer._serialize

    @functools.wraps(moto_serialize)
    def _serialize(self, serialized, value, shape, key):
        if (
            shape.name == "AttributeValue"
            and key
            and isinstance(value, dict)
            and self.operation_model.service_model.service_name == "dynamodb"
        ):
            try:
                serialized[self.get_serialized_name(shape, key)] = attribute_value(value)
                return
            except NotAttributeValue:
                pass  # not DynamoDB's JSON: the shape walk below writes it
        moto_serialize(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize = _serialize


def services_found_once_per_host() -> None:
    """For every request moto finds the service by listing its own package directory
    (a stat of some two hundred entries) and matching the host against every service's
    URL patterns (some 8% of its time). The answer depends on the host alone: it is kept
    per host."""
    moto_for_host = DomainDispatcherApplication.get_backend_for_host
    found = {}

    @functools.wraps(moto_for_host)
    def get_backend_for_host(self, host):
        if host not in found:
            found[host] = moto_for_host(self, host)
        return found[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


def kms_signing_keys_made_when_used() -> None:
    """CreateKey makes every key an RSA-2048 private key, symmetric keys included (about
    60 ms of moto's time; each test app creates a key). Only asymmetric operations (Sign,
    Verify, GetPublicKey) use it: here it is made when first used."""
    import moto.kms.models as kms

    moto_generate = kms.generate_private_key
    kms.generate_private_key = lambda key_spec: None

    def private_key(self):
        if self.__dict__.get("_crm_private_key") is None:
            self.__dict__["_crm_private_key"] = moto_generate(self.key_spec)
        return self.__dict__["_crm_private_key"]

    def set_private_key(self, value):
        self.__dict__["_crm_private_key"] = value

    kms.Key.private_key = property(private_key, set_private_key)


def actions_listed_once_per_class() -> None:
    """Every request lists its handler class's methods (inspect.getmembers) to check that
    the action is one of them. A class's methods do not change: listed once per class."""
    import moto.core.responses as responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        responses.method_names_from_class
    )


def item_sizes_without_copies() -> None:
    """Queries add up the size of each item they return (for the 1 MB page), and a map's
    size wraps each of its values in a new DynamoType first, copying every nested map and
    list again at each level. The values are DynamoTypes already: measured as they are."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    moto_size = DynamoType.size

    @functools.wraps(moto_size)
    def size(self):
        if self.is_map():
            return sum(
                bytesize(k) + (v if type(v) is DynamoType else DynamoType(v)).size()
                for k, v in self.value.items()
            )
        return moto_size(self)

    DynamoType.size = size


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    speed_up_moto()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def ses_messages(start_response):
        from moto.ses.models import ses_backends

        messages = []
        for regions in ses_backends.values():
            for backend in regions.values():
                for m in backend.sent_messages:
                    for to in (getattr(m, "destinations", None) or {}).get("ToAddresses", []):
                        messages.append(
                            {"to": to, "subject": getattr(m, "subject", ""), "text": getattr(m, "body", "")}
                        )
        body = json.dumps(messages).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    def serialized(environ, start_response):
        with lock:
            if environ.get("PATH_INFO") == "/crm-test/ses-messages":
                return ses_messages(start_response)
            # Produce the whole response inside the lock.
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()

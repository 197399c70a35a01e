# The seed's kafka-python consumer example, statement for statement, placeholders filled from
# a JSON document on stdin; "#MARK " lines are progress markers (see seed_producer.py). Like
# the example, it iterates forever: the harness stops it (and runs it with python -u).
import json
import sys

_placeholders = json.load(sys.stdin)


def _mark(what):
    print('#MARK ' + what, flush=True)


_mark('start')

import ssl
from kafka import KafkaConsumer
from json import loads

context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE

_mark('consumer: new KafkaConsumer')
consumer = KafkaConsumer(
    _placeholders['topic'],
    bootstrap_servers=[_placeholders['bootstrap']],
    auto_offset_reset='earliest',
    enable_auto_commit=True,
    group_id=_placeholders['group'],
    security_protocol='SASL_SSL',
    sasl_mechanism='PLAIN',
    sasl_plain_username=_placeholders['username'],
    sasl_plain_password=_placeholders['password'],
    ssl_cafile=_placeholders['ca_file'],
    ssl_context=context,
    value_deserializer=lambda x: loads(x.decode('utf-8')))
_mark('consumer: iterating')

for message in consumer:
    message = message.value
    print('{} added'.format(message))

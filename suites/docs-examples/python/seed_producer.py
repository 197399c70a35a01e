# The seed's kafka-python producer example, statement for statement. Only its placeholders are
# filled, from a JSON document on stdin (it holds the password: never argv or the environment).
# Lines starting with "#MARK " are progress markers around the example's calls; every other
# stdout line is the example's own output. The example defines no `config` mapping for its
# `ssl_cafile=config['<path-to-ca.cert.pem-file>']`: that whole expression is the placeholder.
import atexit
import json
import sys

_placeholders = json.load(sys.stdin)


def _mark(what):
    print('#MARK ' + what, flush=True)


# Registered first, so it runs last at exit: after kafka-python's own atexit close of the producer.
atexit.register(_mark, 'interpreter exit')
_mark('start')

import ssl
from json import dumps
from kafka import KafkaProducer

context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE

_mark('producer: new KafkaProducer')
producer = KafkaProducer(bootstrap_servers=[_placeholders['bootstrap']],
                         security_protocol='SASL_SSL',
                         sasl_mechanism='PLAIN',
                         sasl_plain_username=_placeholders['username'],
                         sasl_plain_password=_placeholders['password'],
                         ssl_cafile=_placeholders['ca_file'],
                         ssl_context=context,
                         value_serializer=lambda x: dumps(x).encode('utf-8'))
_mark('producer: created')

for e in range(5):
    data = {'number' : e}
    producer.send(_placeholders['topic'], value=data)
    print('{} added'.format(e))

_mark('producer: loop done (the example ends here, without flush or close)')

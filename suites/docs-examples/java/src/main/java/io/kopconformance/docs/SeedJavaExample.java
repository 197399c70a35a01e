package io.kopconformance.docs;

import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The seed's Java example, statement for statement and in the seed's order: the Kafka
 * Properties (the JAAS template), optionally the TLS properties (argument {@code sasl_ssl}),
 * the producer, then the consumer and its poll loop with commitAsync(). Only the placeholders
 * are filled, from a java.util.Properties document on stdin (never argv or the environment:
 * it holds the password). Lines starting with "#MARK " are progress markers around the
 * example's calls, so that a run that hangs says where; every other stdout line is the
 * example's own output. Like the example, it never ends by itself: the harness stops it.
 */
public final class SeedJavaExample {
    private SeedJavaExample() {
    }

    private static void mark(String what) {
        System.out.println("#MARK " + what);
        System.out.flush();
    }

    @SuppressWarnings("deprecation")
    public static void main(String[] args) throws Exception {
        boolean tls = args.length > 0 && args[0].equals("sasl_ssl");
        Properties placeholders = new Properties();
        placeholders.load(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String topic = placeholders.getProperty("topic");
        String localTopic = placeholders.getProperty("local.topic");
        mark("start");

        // Kafka Properties
        Properties props = new Properties();
        String username = placeholders.getProperty("username");
        String password = placeholders.getProperty("password");
        String jaasTemplate = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"%s\" password=\"%s\";";
        String jaasCfg = String.format(jaasTemplate, username, password);
        props.put("sasl.jaas.config", jaasCfg);
        props.put("sasl.mechanism", "PLAIN");
        props.put("security.protocol", "SASL_PLAINTEXT");
        props.put("bootstrap.servers", placeholders.getProperty("bootstrap.plaintext"));
        if (tls) {
            props.put("security.protocol", "SASL_SSL");
            props.put("ssl.truststore.location", placeholders.getProperty("truststore.location"));
            props.put("ssl.truststore.password", placeholders.getProperty("truststore.password"));
            props.put("ssl.endpoint.identification.algorithm", "");
            props.put("bootstrap.servers", placeholders.getProperty("bootstrap.ssl"));
        }

        // Producer
        props.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        props.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
        mark("producer: new KafkaProducer");
        Producer<String, String> producer = new KafkaProducer<String, String>(props);
        producer.send(new ProducerRecord<String, String>(topic, placeholders.getProperty("key"), placeholders.getProperty("value")));
        mark("producer: send returned");
        producer.close();
        mark("producer: closed");

        // Consumer
        props.put("enable.auto.commit", "false");
        props.put("group.id", placeholders.getProperty("group"));
        props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
        KafkaConsumer<String, String> consumer = new KafkaConsumer<String, String>(props);
        consumer.subscribe(Arrays.asList(topic, localTopic));
        mark("consumer: subscribed to " + topic + ", " + localTopic);
        long polls = 0;
        while (true) {
            ConsumerRecords<String, String> records = consumer.poll(100);
            polls++;
            if (polls == 1 || records.count() > 0 || polls % 50 == 0) {
                mark("consumer: poll #" + polls + " returned " + records.count() + " record(s)");
            }
            for (ConsumerRecord<String, String> record : records) {
                System.out.printf(">>> offset = %d, key = %s, value = %s\n",
                        record.offset(), record.key(), record.value());

            }
            consumer.commitAsync();
        }
    }
}

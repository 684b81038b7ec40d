package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.CommittedRecords;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code neuron-explain redrive} as a user runs it, against a real broker and registry: dead
 * letters go back to their source topic byte for byte, once; --dry-run writes nothing; --filter
 * selects and leaves the others for a later run; a letter without bytes is listed and skipped.
 */
class RedriveCommandTest {
    static final String DLQ = Topics.deadLetter(Topics.NEURON_ACTIVATIONS);
    static final String NOT_FOUND = "schema registry at http://old:8081 refused to fetch schema id 3: HTTP 404";

    @Test
    void redrivesEachSelectedLetterOnceByteForByte(@TempDir Path dir) throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 3, (short) 1, 30_000);
            }
            var keys = new AvroSerializer<ActivationsKey>(clients.registry(), true);
            var values = new AvroSerializer<NeuronActivations>(clients.registry(), false);
            List<byte[][]> originals = new ArrayList<>();
            for (int n = 0; n < 3; n++) {
                NeuronKey key = SampleRecords.key(2, n);
                originals.add(new byte[][] {keys.serialize(Topics.NEURON_ACTIVATIONS, SampleRecords.activationsKey(key)),
                        values.serialize(Topics.NEURON_ACTIVATIONS, SampleRecords.activations(key))});
            }
            // Offsets 0..3 of one partition: two registry 404s, an LLM failure between them, a refused checkpoint without bytes.
            List<DeadLetter> letters = List.of(
                    letter(originals.get(0), 0, 10, "org.apache.kafka.common.errors.SerializationException", NOT_FOUND),
                    letter(originals.get(1), 1, 11, "io.neuronexplainer.llm.LlmException", "unparseable LLM output after 3 attempts"),
                    letter(originals.get(2), 2, 12, "org.apache.kafka.common.errors.SerializationException", NOT_FOUND),
                    new DeadLetter("checkpoint-watcher", Topics.CHECKPOINTS, -1, -1L, null, null, "java.io.IOException",
                            "step-000300 at abc123: cannot download config.json: HTTP 404", 1, SampleRecords.AT));
            var letterSerializer = new AvroSerializer<DeadLetter>(clients.registry(), false);
            try (var producer = new KafkaProducer<>(clients.producer(null), new ByteArraySerializer(), new ByteArraySerializer())) {
                for (DeadLetter letter : letters) {
                    byte[] key = letter.getKey() == null ? null : bytes(letter.getKey());
                    producer.send(new ProducerRecord<>(DLQ, 0, key, letterSerializer.serialize(DLQ, letter))).get();
                }
            }
            String[] cluster = {"--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", clients.registry().url()};

            var dryRun = redrive(dir, cluster, "--topic", DLQ, "--dry-run");
            assertEquals(0, dryRun.exitCode(), dryRun.stderr());
            assertEquals(3, count(dryRun.stdout(), "would redrive"), dryRun.stdout());
            assertTrue(dryRun.stdout().contains("skip     checkpoints -1@-1  checkpoint-watcher  java.io.IOException: step-000300"),
                    dryRun.stdout());
            assertTrue(dryRun.stdout().contains("would redrive neuron-activations 1@11  explainer-worker  "
                    + "io.neuronexplainer.llm.LlmException: unparseable LLM output after 3 attempts"), dryRun.stdout());
            assertTrue(lastLine(dryRun.stdout()).endsWith("(dry run: nothing written)"), dryRun.stdout());
            assertEquals(List.of(), sourceRecords(clients, 0));

            var filtered = redrive(dir, cluster, "--topic", DLQ, "--filter", "http 404");
            assertEquals(0, filtered.exitCode(), filtered.stderr());
            assertEquals("redrive " + DLQ + ": letters=4 redriven=2 skipped_no_bytes=1 not_selected=1 already_redriven=0"
                    + " left_for_next_run=0 unreadable=0 filter=\"http 404\"", lastLine(filtered.stdout()));
            assertTrue(filtered.stdout().contains("redrive  neuron-activations 0@10  explainer-worker  "
                    + "org.apache.kafka.common.errors.SerializationException: " + NOT_FOUND), filtered.stdout());
            assertSameBytes(List.of(originals.get(0), originals.get(2)), sourceRecords(clients, 2));

            var filteredAgain = redrive(dir, cluster, "--topic", DLQ, "--filter", "http 404");
            assertEquals(0, filteredAgain.exitCode(), filteredAgain.stderr());
            assertTrue(lastLine(filteredAgain.stdout()).contains(" redriven=0 "), filteredAgain.stdout());
            assertTrue(lastLine(filteredAgain.stdout()).contains(" already_redriven=2 "), filteredAgain.stdout());

            var rest = redrive(dir, cluster, "--topic", DLQ);
            assertEquals(0, rest.exitCode(), rest.stderr());
            assertTrue(lastLine(rest.stdout()).contains(" redriven=1 "), rest.stdout());
            assertSameBytes(originals, sourceRecords(clients, 3));

            var nothingLeft = redrive(dir, cluster, "--topic", DLQ);
            assertEquals(0, nothingLeft.exitCode(), nothingLeft.stderr());
            assertEquals("redrive " + DLQ + ": letters=0 redriven=0 skipped_no_bytes=0 not_selected=0 already_redriven=0"
                    + " left_for_next_run=0 unreadable=0", lastLine(nothingLeft.stdout()));
            assertSameBytes(originals, sourceRecords(clients, 3));

            // The redriven records are what the worker failed on, and now decode.
            var reader = AvroDeserializer.of(clients.registry(), NeuronActivations.class);
            for (var record : sourceRecords(clients, 3)) {
                assertEquals(Topics.NEURON_ACTIVATIONS, record.topic());
                reader.deserialize(record.topic(), record.value());
            }

            var notDlq = redrive(dir, cluster, "--topic", Topics.NEURON_ACTIVATIONS);
            assertEquals(1, notDlq.exitCode());
            assertEquals(List.of("error: --topic neuron-activations is not a dead-letter topic (their names end in -dlq)"),
                    notDlq.stderr().lines().toList());
            var unknown = redrive(dir, cluster, "--topic", "nope-dlq");
            assertEquals(1, unknown.exitCode());
            assertEquals(List.of("error: no topic nope-dlq at " + kafka.bootstrapServers()), unknown.stderr().lines().toList());
        }
    }

    private static DeadLetter letter(byte[][] original, int partition, long offset, String errorClass, String message) {
        return new DeadLetter("explainer-worker", Topics.NEURON_ACTIVATIONS, partition, offset,
                ByteBuffer.wrap(original[0]), ByteBuffer.wrap(original[1]), errorClass, message, 1, SampleRecords.AT);
    }

    private static CliProcess.Result redrive(Path dir, String[] cluster, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("redrive"));
        all.addAll(List.of(cluster));
        all.addAll(List.of(args));
        return CliProcess.run(dir.resolve("redrive-" + System.nanoTime() + ".err"), 120, all.toArray(String[]::new));
    }

    private static List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> sourceRecords(KafkaClients clients, int expected) {
        return CommittedRecords.read(clients, Topics.NEURON_ACTIVATIONS, new ByteArrayDeserializer(), new ByteArrayDeserializer(),
                expected, Duration.ofSeconds(expected == 0 ? 2 : 30));
    }

    /** The same key and value bytes, record for record (partitions interleave, so in any order). */
    private static void assertSameBytes(List<byte[][]> expected,
                                        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> read) {
        HexFormat hex = HexFormat.of();
        List<String> want = expected.stream().map(kv -> hex.formatHex(kv[0]) + "/" + hex.formatHex(kv[1])).sorted().toList();
        List<String> got = read.stream().map(r -> hex.formatHex(r.key()) + "/" + hex.formatHex(r.value())).sorted().toList();
        assertEquals(want, got);
        if (!expected.isEmpty()) {
            assertArrayEquals(expected.get(0)[1], read.stream().filter(r -> java.util.Arrays.equals(r.key(), expected.get(0)[0]))
                    .findFirst().orElseThrow().value());
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private static int count(String text, String what) {
        return (int) text.lines().filter(l -> l.startsWith(what)).count();
    }

    private static String lastLine(String text) {
        List<String> lines = text.lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
}

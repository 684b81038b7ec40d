package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;

class DecodedTest {
    @Test
    void aDecodedRecordIsWrittenBackAsTheBytesItCameInNotEncodedAgain() {
        Serde<Decoded<String>> serde = Decoded.serde(Serdes.String());
        byte[] received = "a simulation".getBytes(StandardCharsets.UTF_8);
        Decoded<String> decoded = serde.deserializer().deserialize("t", received);
        assertEquals("a simulation", decoded.value());
        assertSame(received, serde.serializer().serialize("t", decoded));
    }

    @Test
    void tombstonesStayTombstones() {
        Serde<Decoded<String>> serde = Decoded.serde(Serdes.String());
        assertNull(serde.deserializer().deserialize("t", null));
        assertNull(serde.serializer().serialize("t", null));
    }
}

package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import io.neuronexplainer.llm.TokenUsage;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The streaming read of an echoed completion keeps what a JSON tree would give the simulator. */
class EchoedLogprobsTest {
    private static EchoedLogprobs read(String json) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            return EchoedLogprobs.read(p);
        }
    }

    @Test
    void readsTokensOffsetsAndTheExpectedValueAtEachPositionWhateverElseTheAnswerHolds() throws IOException {
        String json = """
                {"id":"c","extra":{"nested":[1,{"tokens":["no"]}]},
                 "choices":[{"text":"ignored","index":0,"logprobs":{
                    "tokens":[" a",7,"\\tunknown"," b"],
                    "token_logprobs":[null,-1,-2,-3],
                    "top_logprobs":[null,{"x":-0.5,"0":"not a number"},
                                    {" 5":-0.7,"5":-0.7,"10":-5.0,"10":-0.7,"cat":-0.1,"3":[1]},
                                    {"x":-0.1}],
                    "text_offset":[0,"2",3.9,12]}},
                   {"logprobs":{"tokens":["second choice"]}}],
                 "usage":{"prompt_tokens":"41","completion_tokens":2.0,"total_tokens":43}}
                """;
        EchoedLogprobs r = read(json);
        assertEquals(2, r.choices());
        assertTrue(r.hasLogprobs());
        assertEquals(Arrays.asList(" a", null, "\tunknown", " b"), r.tokens());
        assertArrayEquals(new long[] {0, 2, 3, 12}, r.textOffset());
        assertArrayEquals(new boolean[] {false, true, true, true}, r.topIsObject());
        assertTrue(Double.isNaN(r.expected()[0]));
        assertTrue(Double.isNaN(r.expected()[1]), "a non-number candidate is no candidate");
        // " 5" and "5" both count for 5, the repeated "10" keeps its last value: (5p + 5p + 10p) / 3p.
        assertEquals(20.0 / 3, r.expected()[2], 1e-9);
        assertTrue(Double.isNaN(r.expected()[3]));
        assertEquals(new TokenUsage(41, 2), r.usage());
    }

    @Test
    void saysWhatIsMissingRatherThanGuessing() throws IOException {
        EchoedLogprobs none = read("{\"choices\":{}}");
        assertEquals(-1, none.choices());
        assertEquals(TokenUsage.NONE, none.usage());
        EchoedLogprobs empty = read("{\"choices\":[]}");
        assertEquals(0, empty.choices());
        EchoedLogprobs noLogprobs = read("{\"choices\":[{\"logprobs\":null}]}");
        assertEquals(1, noLogprobs.choices());
        assertFalse(noLogprobs.hasLogprobs());
        EchoedLogprobs bare = read("{\"choices\":[{\"logprobs\":{\"tokens\":\"x\",\"top_logprobs\":{}}}]}");
        assertTrue(bare.hasLogprobs());
        assertNull(bare.tokens());
        assertNull(bare.topIsObject());
        assertNull(bare.textOffset());
        assertEquals(-1, read("[1,2]").choices());
    }
}

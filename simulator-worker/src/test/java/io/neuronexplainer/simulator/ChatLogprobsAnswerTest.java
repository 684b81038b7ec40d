package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import io.neuronexplainer.llm.TokenUsage;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The streaming read of a chat completion with logprobs keeps what a JSON tree would give the simulator. */
class ChatLogprobsAnswerTest {
    private static ChatLogprobsAnswer read(String json) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            return ChatLogprobsAnswer.read(p);
        }
    }

    @Test
    void readsEachTokensExpectedValueFromItsNumberCandidatesOrItself() throws IOException {
        String json = """
                {"usage":{"prompt_tokens":12,"completion_tokens":"x"},
                 "choices":[{"index":0,"logprobs":{"content":[
                    {"token":"5","logprob":-2,"top_logprobs":[{"token":"5","logprob":-2.0},{"token":"5","logprob":-0.5},
                                                           {"token":" 7","logprob":-0.5},{"token":"cat","logprob":-0.1},
                                                           {"token":9,"logprob":-0.1},{"token":"4","logprob":null}]},
                    {"top_logprobs":[],"logprob":-0.1,"token":"8"},
                    {"token":"3","logprob":-0.1,"top_logprobs":[{"token":"a","logprob":-0.2}]},
                    null,
                    {"token":3,"logprob":{"not":"a number"},"top_logprobs":[{"token":"4","logprob":[1]}]},
                    {"token":1e2,"logprob":[-0.1]},
                    {"token":"\\t","bytes":[9],"logprob":-0.3,"top_logprobs":{"first":{"token":"2","logprob":-0.3}}}]},
                   "message":{"role":"assistant","content":"unused when there are logprobs"}},
                  {"message":{"content":"second"}}]}
                """;
        ChatLogprobsAnswer r = read(json);
        assertEquals(2, r.choices());
        assertEquals("unused when there are logprobs", r.content());
        assertEquals(List.of("5", "8", "3", "", "3", "100.0", "\t"), r.tokens());
        double[] e = r.expected();
        assertEquals(6.0, e[0], 1e-9, "the best logprob of each spelling: 5 and 7 at equal odds");
        assertEquals(8.0, e[1], 1e-9, "no candidates: the token itself");
        assertTrue(Double.isNaN(e[2]), "candidates, none a number: none, though the token is one");
        assertTrue(Double.isNaN(e[3]));
        assertTrue(Double.isNaN(e[4]), "a token that is not a string is no candidate of itself");
        assertTrue(Double.isNaN(e[5]), "nor one whose logprob is no number");
        assertEquals(2.0, e[6], 1e-9, "an object of candidates counts its values, as a tree iterates it");
        assertEquals(new TokenUsage(12, 0), r.usage());
    }

    @Test
    void withoutLogprobsTheContentIsRead() throws IOException {
        ChatLogprobsAnswer r = read("{\"choices\":[{\"message\":{\"content\":\"<start>\\nx\\t3\\n<end>\"},\"logprobs\":null}]}");
        assertEquals(1, r.choices());
        assertEquals("<start>\nx\t3\n<end>", r.content());
        assertEquals(List.of(), r.tokens());
        assertEquals(-1, read("{\"choices\":null}").choices());
        assertEquals("", read("{\"choices\":[{\"message\":{\"content\":null}}]}").content());
    }
}

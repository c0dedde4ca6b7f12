package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChildJvmTest {

  /** The child: prints its arguments, then waits to be killed. */
  public static void main(String[] args) throws InterruptedException {
    System.out.println("ARGS " + String.join(" ", args));
    System.out.flush();
    Thread.sleep(120_000);
  }

  @Test
  void commandIsJavaWithTheOptionsThisClassPathTheMainAndItsArguments() {
    List<String> cmd = ChildJvm.main(ChildJvmTest.class).options("-Xmx64m").args("a", "b").command();
    assertThat(cmd.get(0)).endsWith("java");
    assertThat(cmd.subList(1, cmd.size())).containsExactly("-Xmx64m", "-cp", System.getProperty("java.class.path"),
        ChildJvmTest.class.getName(), "a", "b");
  }

  @Test
  void startsAChildThatCanBeFrozenWokenAndKilled() throws Exception {
    Process p = ChildJvm.main(ChildJvmTest.class).options("-Xmx64m", "-XX:TieredStopAtLevel=1").args("x", "y")
        .startPiped();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      assertThat(out.readLine()).isEqualTo("ARGS x y");
      ChildJvm.signal(p, "STOP");
      ChildJvm.killAll(List.of(p)); // wakes the frozen child before the kill
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.isAlive()).isFalse();
    } finally {
      p.destroyForcibly();
    }
  }
}

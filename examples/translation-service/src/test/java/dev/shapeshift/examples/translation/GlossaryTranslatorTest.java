package dev.shapeshift.examples.translation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GlossaryTranslatorTest {

    private final GlossaryTranslator bundled = GlossaryTranslator.bundled();

    @Test
    void translatesWordByWordKeepingCapitalsPunctuationDigitsAndUnknownWords() {
        assertThat(bundled.sourceLocale()).isEqualTo("en");
        assertThat(bundled.targetLocales()).containsExactlyInAnyOrder("de", "fr");
        assertThat(bundled.translate("Dish no. 7 (Sweet)", "en", "de")).isEqualTo("Gericht Nr. 7 (Süß)");
        assertThat(bundled.translate("new DISH, sour!", "en", "fr")).isEqualTo("nouveau Plat, acide!");
        assertThat(bundled.translate("Renamed dish 5", "en", "de")).isEqualTo("Renamed Gericht 5");
        assertThat(bundled.translate("Quokka stew", "en", "fr")).isEqualTo("Quokka stew");
        assertThat(bundled.translate("", "en", "fr")).isEmpty();
    }

    @Test
    void refusesWhatItCannotDo() {
        assertThatThrownBy(() -> bundled.translate("Dish", "de", "fr")).hasMessageContaining("translates from en");
        assertThatThrownBy(() -> bundled.translate("Dish", "en", "it")).hasMessageContaining("no locale it");
    }

    @Test
    void aMalformedGlossaryFailsNamingTheLine() {
        assertThatThrownBy(() -> GlossaryTranslator.parse("g.csv", "# only a comment\n")).hasMessageContaining("g.csv: empty");
        assertThatThrownBy(() -> GlossaryTranslator.parse("g.csv", "en\n")).hasMessageContaining("g.csv line 1");
        assertThatThrownBy(() -> GlossaryTranslator.parse("g.csv", "en,de\ndish,Gericht,plat\n"))
                .hasMessageContaining("line 2 has 3 cells, the header 2");
        assertThatThrownBy(() -> GlossaryTranslator.parse("g.csv", "en,de\ntwo words,zwei\n"))
                .hasMessageContaining("'two words' is not one word");
    }
}

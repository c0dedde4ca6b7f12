package dev.shapeshift.spec;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** "Did you mean …?" — the candidates closest to a misspelt name by edit distance. */
final class ClosestMatch {
    private ClosestMatch() {
    }

    /** Up to {@code limit} candidates within a plausible distance of {@code wrong}, closest first. */
    static List<String> among(String wrong, Collection<String> candidates, int limit) {
        String w = wrong.toLowerCase(Locale.ROOT);
        int tolerance = Math.max(2, w.length() / 3);
        return candidates.stream()
                .filter(c -> distance(w, c.toLowerCase(Locale.ROOT)) <= tolerance
                        || w.length() >= 3 && c.toLowerCase(Locale.ROOT).contains(w))
                .sorted(Comparator.comparingInt((String c) -> distance(w, c.toLowerCase(Locale.ROOT)))
                        .thenComparing(Comparator.naturalOrder()))
                .limit(limit)
                .toList();
    }

    /** {@code " (did you mean a or b?)"}, or empty when nothing is close. */
    static String hint(String wrong, Collection<String> candidates) {
        List<String> close = among(wrong, candidates, 3);
        return close.isEmpty() ? "" : " (did you mean " + String.join(" or ", close) + "?)";
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}

#include <catch2/catch.hpp>

#include "reelfarm/media/subtitles.hpp"

using namespace reelfarm::media;

TEST_CASE("SRT and WebVTT carry speakers and exact times", "[media][subtitles]") {
  std::vector<cue> cues = {{1.5, 3.25, "ANNA", "Hi <Ben> & co."},
                           {3661.001, 3662.5, "BEN", "Hey."}};
  CHECK(to_srt(cues) ==
        "1\n00:00:01,500 --> 00:00:03,250\nANNA: Hi <Ben> & co.\n\n"
        "2\n01:01:01,001 --> 01:01:02,500\nBEN: Hey.\n\n");
  CHECK(to_webvtt(cues) ==
        "WEBVTT\n\n1\n00:00:01.500 --> 00:00:03.250\n<v ANNA>Hi &lt;Ben&gt; &amp; co.\n\n"
        "2\n01:01:01.001 --> 01:01:02.500\n<v BEN>Hey.\n\n");
}

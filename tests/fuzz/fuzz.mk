# tests/fuzz/fuzz.mk - the libFuzzer harnesses (make fuzz, which passes SRC, BUILD,
# FUZZ_CC and the library flags).  Every kpop source but the two main()s is built a
# second time with clang's fuzzer coverage, ASan and UBSan into three archives
# (common, server, client); each tests/fuzz/fuzz-NAME.c links against them.
# GNU make; not processed by automake.
SRC ?= .
BUILD ?= .
OUT ?= $(BUILD)/tests/fuzz/bin
FUZZ_CC ?= clang

SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FCFLAGS = -g -O1 $(SAN) -Wall -Wextra -Wno-unused-parameter \
	-I$(BUILD) -I$(SRC) -I$(SRC)/common $(DEPS_CFLAGS) \
	-DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"'

COMMON_SRCS := $(wildcard $(SRC)/common/*.c)
SERVER_SRCS := $(filter-out $(SRC)/server/kpopd.c, \
	$(wildcard $(SRC)/server/*.c $(SRC)/server/authd/*.c))
CLIENT_SRCS := $(filter-out $(SRC)/client/kpop.c, $(wildcard $(SRC)/client/*.c))
HARNESS_SRCS := $(wildcard $(SRC)/tests/fuzz/fuzz-*.c)

obj = $(patsubst $(SRC)/%.c,$(OUT)/obj/%.o,$(1))
HARNESSES := $(patsubst $(SRC)/tests/fuzz/%.c,$(OUT)/%,$(HARNESS_SRCS))
LIBS_F = $(OUT)/libserver.a $(OUT)/libclient.a $(OUT)/libcommon.a

all: $(HARNESSES)

$(OUT)/obj/%.o: $(SRC)/%.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC   $*.c"
	@$(FUZZ_CC) $(FCFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(OUT)/libcommon.a: $(call obj,$(COMMON_SRCS))
$(OUT)/libserver.a: $(call obj,$(SERVER_SRCS))
$(OUT)/libclient.a: $(call obj,$(CLIENT_SRCS))
$(OUT)/lib%.a:
	@rm -f $@
	@ar rcs $@ $^

$(OUT)/fuzz-%: $(OUT)/obj/tests/fuzz/fuzz-%.o $(LIBS_F)
	@echo "  FUZZLD   $(notdir $@)"
	@$(FUZZ_CC) $(SAN) -fsanitize=fuzzer $< $(LIBS_F) $(DEPS_LIBS) -o $@

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)

.PHONY: all
.SECONDARY:

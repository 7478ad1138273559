#!/usr/bin/env bash
# Checks that this Python rule answers exactly as the Rust `confidential` rule does,
# through the real host, on the same inputs and configs.
exec "$(dirname "${BASH_SOURCE[0]}")/../../scripts/compare-confidential.sh" py

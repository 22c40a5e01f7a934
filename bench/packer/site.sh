#!/bin/sh
# The derived image's script (bench/packer/README.md): the same two files the
# Slipway side's recipe writes.
set -eu
mkdir -p /etc/slipway-bench /var/www/html
echo built-by-bench >/etc/slipway-bench/built
echo 'hello from a built image' >/var/www/html/index.html

# The one version source is the Python package's __version__ (the wheel's
# metadata and native/cffi_build.py read it too): the engine, the cffi module
# and the fuzz targets report the same. Needs NATIVE (this directory).
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"$$/\1/p' $(NATIVE)/../simkit/__init__.py)
ifeq ($(VERSION),)
$(error cannot read __version__ from $(NATIVE)/../simkit/__init__.py)
endif
VERSION_CFLAGS := -DSK_VERSION_STRING='"$(VERSION)"'

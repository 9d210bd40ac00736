/* The only glue the Lua 5.4 interpreter needs for the sandbox. Debian's build generates this
 * header (debian/rules; Debian's patch 0002-lua-modules-paths includes it in luaconf.h for the
 * module search path); we build from the source package without debian/rules. */
#define DEB_HOST_MULTIARCH "x86_64-linux-gnu"

# Run by cpack after it made the packages (CPACK_POST_BUILD_SCRIPTS).
# CPack counts a symbolic link as the size of the file it points to, so the
# agent's package, with its seven ss-* links to one 3 MiB binary, said it
# installs 20 MiB. This rebuilds each package with the Installed-Size that
# dpkg itself would compute: the files' sizes, links as links.
foreach(deb IN LISTS CPACK_PACKAGE_FILES)
  if(NOT deb MATCHES "\\.deb$")
    continue()
  endif()
  set(root "${deb}.root")
  file(REMOVE_RECURSE "${root}")
  execute_process(COMMAND dpkg-deb --raw-extract "${deb}" "${root}" COMMAND_ERROR_IS_FATAL ANY)
  execute_process(COMMAND du -s -k --apparent-size --exclude=DEBIAN "${root}"
                  OUTPUT_VARIABLE du_output COMMAND_ERROR_IS_FATAL ANY)
  string(REGEX MATCH "^[0-9]+" kib "${du_output}")
  file(READ "${root}/DEBIAN/control" control)
  string(REGEX REPLACE "Installed-Size: [0-9]+" "Installed-Size: ${kib}" control "${control}")
  file(WRITE "${root}/DEBIAN/control" "${control}")
  execute_process(COMMAND dpkg-deb --root-owner-group --build "${root}" "${deb}"
                  OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
  file(REMOVE_RECURSE "${root}")
endforeach()

# `make package`: a Debian package (CPack) with the vault binary, an example configuration in
# /etc/vault-cpp and a hardened systemd unit running the server as its own user.
install(TARGETS vault RUNTIME DESTINATION bin)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/vault.hcl DESTINATION /etc/vault-cpp
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/vault-cpp.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/differences-from-vault.md
        DESTINATION share/doc/vault-cpp)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vault-cpp)
set(CPACK_PACKAGE_VERSION 0.1.0)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "vault-cpp maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "secrets server speaking HashiCorp Vault's API, with dynamic AWS credentials")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONFLICTS "vault")
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/postinst ${CMAKE_CURRENT_LIST_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

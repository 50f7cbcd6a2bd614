# pgAdmin 4 settings for this image, read through CONFIG_DISTRO_FILE_PATH (before config_local.py
# and /etc/pgadmin/config_system.py, which may still override them). As the official image.
SERVER_MODE = True
DATA_DIR = "/var/lib/pgadmin"
DEFAULT_SERVER = "0.0.0.0"
DEFAULT_SERVER_PORT = 80
# Saved server passwords are kept without asking each user for a master password.
MASTER_PASSWORD_REQUIRED = False
# The container has no business calling home; the image is upgraded by rebuilding it.
UPGRADE_CHECK_ENABLED = False

-- One database per service on the shared server (the CRM's is created by the image itself).
CREATE DATABASE synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
CREATE DATABASE whatsapp;
